"""geometry.py on meshes whose volume, area and part count are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from printharvest.connectors.mesh import geometry
from printharvest.connectors.mesh.geometry import InvalidMeshError, split_bodies, whole_body
from tests.support.meshgen import (
    box,
    icosahedron,
    icosphere,
    polyhedron_volume,
    ring,
    ring_volume,
    translate,
    union,
)


def soup(mesh: tuple[np.ndarray, np.ndarray], dtype: type = np.float32) -> np.ndarray:
    """The mesh as an STL-style triangle list."""
    v, f = mesh
    return np.ascontiguousarray(v[f].reshape(-1, 3).astype(dtype))


def test_box_exact() -> None:
    fig = split_bodies(soup(box((1, 2, 3), (11, 22, 33))), None)
    assert fig.volume_ml == pytest.approx(6.0, rel=1e-12)  # 10 x 20 x 30 mm = 6 mL
    assert fig.area_mm2 == pytest.approx(2 * (200 + 600 + 300), rel=1e-12)
    assert fig.bbox_mm == [10.0, 20.0, 30.0]
    assert fig.watertight and len(fig.bodies) == 1 and fig.all_warnings() == []


def test_icosahedron_matches_the_closed_formula() -> None:
    edge = 7.0
    fig = split_bodies(*icosahedron(edge))
    assert fig.volume_ml is not None
    assert fig.volume_ml * 1000 == pytest.approx(5 / 12 * (3 + math.sqrt(5)) * edge**3, rel=1e-12)
    assert fig.area_mm2 == pytest.approx(5 * math.sqrt(3) * edge**2, rel=1e-12)


def test_icosphere_matches_independent_polyhedron_volume() -> None:
    mesh = icosphere(3, radius=25.0)
    fig = split_bodies(soup(mesh, np.float64), None)
    assert fig.volume_ml is not None
    assert fig.volume_ml * 1000 == pytest.approx(polyhedron_volume(mesh), rel=1e-10)
    # ... and approaches the sphere from below
    assert 0.97 * 4 / 3 * math.pi * 25**3 < fig.volume_ml * 1000 < 4 / 3 * math.pi * 25**3
    assert fig.bbox_mm == pytest.approx([50.0, 50.0, 50.0], abs=1e-9)
    assert len(fig.bodies) == 1 and fig.watertight


def test_torus_has_one_part_and_the_exact_volume() -> None:
    mesh = ring(24, inner=10.0, outer=20.0, height=5.0)
    fig = split_bodies(soup(mesh, np.float64), None)
    assert len(fig.bodies) == 1 and fig.watertight
    assert fig.volume_ml is not None
    assert fig.volume_ml * 1000 == pytest.approx(ring_volume(24, 10.0, 20.0, 5.0), rel=1e-12)
    assert fig.bbox_mm == pytest.approx([40.0, 40.0 * math.cos(math.pi / 24) * 1.0, 5.0],
                                        rel=0.02)


def test_disjoint_union_parts_sorted_by_volume() -> None:
    small = box((100, 0, 0), (101, 1, 1))
    big = icosphere(2, radius=10.0)
    middle = ring(16, 2.0, 4.0, 2.0)
    mesh = union(small, translate(middle, (50, 0, 0)), big)
    fig = split_bodies(soup(mesh, np.float64), None)
    bodies = fig.sorted_bodies()
    assert len(bodies) == 3
    expected = [polyhedron_volume(big), ring_volume(16, 2.0, 4.0, 2.0), 1.0]
    assert [b.volume_ml * 1000 for b in bodies] == pytest.approx(expected, rel=1e-10)  # type: ignore[operator]
    assert bodies[2].size_mm == [1.0, 1.0, 1.0]
    assert fig.volume_ml * 1000 == pytest.approx(sum(expected), rel=1e-10)  # type: ignore[operator]


def test_touching_but_separate_bodies_stay_two() -> None:
    # A small box resting on a big one: faces touch, no vertex is shared.
    mesh = union(box((0, 0, 0), (10, 10, 10)), box((2, 2, 10), (5, 5, 13)))
    fig = split_bodies(soup(mesh), None)
    assert len(fig.bodies) == 2 and fig.watertight
    assert fig.volume_ml == pytest.approx(1.0 + 0.027)
    assert fig.bbox_mm == [10.0, 10.0, 13.0]


def test_bodies_sharing_corners_are_one_part_and_not_manifold() -> None:
    # Two boxes sharing a whole face: their corners coincide, so they merge into one
    # component whose shared edges have four faces: not watertight.
    mesh = union(box((0, 0, 0), (1, 1, 1)), box((1, 0, 0), (2, 1, 1)))
    fig = split_bodies(soup(mesh), None)
    assert len(fig.bodies) == 1
    assert not fig.watertight and fig.volume_ml is None


def test_open_mesh_keeps_area_box_and_count() -> None:
    v, f = box((0, 0, 0), (10, 20, 30))
    fig = split_bodies(v, f[2:])  # no bottom face
    assert len(fig.bodies) == 1 and not fig.watertight
    assert fig.volume_ml is None and fig.bodies[0].volume_ml is None
    assert fig.area_mm2 == pytest.approx(2200 - 200)
    assert fig.bbox_mm == [10.0, 20.0, 30.0]
    assert "not watertight" in fig.all_warnings()[0]


def test_inconsistent_winding_is_not_watertight() -> None:
    v, f = box((0, 0, 0), (1, 1, 1))
    f = f.copy()
    f[0] = f[0][::-1]
    fig = split_bodies(v, f)
    assert not fig.watertight and fig.volume_ml is None


def test_void_subtracts_from_the_total() -> None:
    outer = box((0, 0, 0), (10, 10, 10))
    inner_v, inner_f = box((4, 4, 4), (6, 6, 6))
    fig = split_bodies(*union(outer, (inner_v, inner_f[:, ::-1])))
    assert len(fig.bodies) == 2
    assert fig.volume_ml == pytest.approx(1.0 - 0.008)
    assert any("wound inwards" in w for w in fig.all_warnings())


def test_inverted_file_gets_positive_volume() -> None:
    v, f = box((0, 0, 0), (10, 10, 10))
    fig = split_bodies(v, f[:, ::-1])
    assert fig.volume_ml == pytest.approx(1.0) and fig.watertight


def test_negative_zero_and_cad_noise_merge() -> None:
    v, f = box((-1, -1, 0), (1, 1, 2))
    tri = v[f].reshape(-1, 3).copy()
    tri[0::3, 2] = np.where(tri[0::3, 2] == 0, -0.0, tri[0::3, 2])
    tri[1::3, 2] = np.where(tri[1::3, 2] == 0, -2.7e-16, tri[1::3, 2])
    fig = split_bodies(tri, None)
    assert fig.watertight and len(fig.bodies) == 1
    assert fig.volume_ml == pytest.approx(0.008)


def test_points_a_float32_ulp_apart_stay_apart() -> None:
    v, f = box((0, 0, 0), (10, 10, 10))
    tri = v[f].reshape(-1, 3).astype(np.float32)
    row = int(np.flatnonzero((tri == 10).all(axis=1))[0])
    tri[row] = np.nextafter(tri[row], np.float32(100))  # one corner of one triangle moves
    fig = split_bodies(tri, None)
    assert not fig.watertight


def test_hash_collisions_never_join_different_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geometry, "_mix", lambda h: h & np.uint64(0))  # every point collides
    mesh = union(box((0, 0, 0), (1, 1, 1)), box((5, 0, 0), (7, 1, 1)))
    fig = split_bodies(soup(mesh), None)
    assert len(fig.bodies) == 2 and fig.watertight
    assert fig.volume_ml == pytest.approx(0.003)


def test_whole_body_counts_shells_as_one_part_and_mirroring() -> None:
    mesh = union(box((0, 0, 0), (1, 1, 1)), box((5, 0, 0), (7, 1, 1)))
    fig = whole_body(*mesh, name="pair")
    assert len(fig.bodies) == 1 and fig.bodies[0].name == "pair"
    assert fig.volume_ml == pytest.approx(0.003)
    v, f = mesh
    mirrored = whole_body(v * np.array([-1.0, 1, 1]), f, mirrored=True)
    assert mirrored.bodies[0].signed_volume_mm3 == pytest.approx(3.0)


def test_degenerate_triangles_are_ignored_with_a_warning() -> None:
    v, f = box((0, 0, 0), (1, 1, 1))
    f = np.vstack([f, [[0, 0, 1]]])
    fig = split_bodies(v, f)
    assert fig.watertight and any("degenerate" in w for w in fig.warnings)


@pytest.mark.parametrize(
    ("vertices", "faces", "reason"),
    [
        (np.array([[0, 0, np.nan]] * 3), None, "NaN"),
        (np.array([[0, 0, np.inf]] * 3), None, "NaN"),
        (np.zeros((0, 3)), None, "no triangles"),
        (np.zeros((4, 3)), None, "multiple of three"),
        (np.zeros((3, 3)), np.array([[0, 1, 5]]), "does not exist"),
        (np.array([[0, 0, 0], [1, 0, 0], [2e12, 0, 0]]), None, "1000 km"),
    ],
)
def test_unusable_data_raises(vertices: np.ndarray, faces: np.ndarray | None, reason: str) -> None:
    with pytest.raises(InvalidMeshError, match=reason):
        split_bodies(vertices.astype(np.float64), faces)
