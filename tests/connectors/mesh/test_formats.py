"""Every mesh format through the real harvester: the same figures, in the contract's units."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from printharvest.harvest.harvester import Harvester
from printharvest.harvest.plugins import PluginHost
from printharvest.rules.lab import Rules
from tests.support.meshgen import (
    box,
    icosphere,
    mesh_xml,
    model_xml,
    polyhedron_volume,
    ring,
    ring_volume,
    transform,
    translate,
    union,
    write_3mf,
    write_ascii_stl,
    write_glb,
    write_obj,
    write_off,
    write_ply,
    write_stl,
)

INCH = 25.4
IN3_ML = INCH**3 / 1000  # 16.387064 mL


@pytest.fixture(scope="module")
def harvester() -> Harvester:
    """The built-in connectors and default rules."""
    return Harvester(PluginHost.load(None, entry_points=False), Rules.load(None))


def inspect(harvester: Harvester, path: Path) -> list[dict[str, Any]]:
    """What ``inspect --json`` prints for ``path``; fails on any error."""
    outcome = harvester.harvest_paths([path], grouping="root")
    assert not outcome.errors, [str(e) for e in outcome.errors]
    return [r.to_json_dict() for r in outcome.records]


def one(harvester: Harvester, path: Path) -> dict[str, Any]:
    """The single record of ``path``."""
    records = inspect(harvester, path)
    assert len(records) == 1
    return records[0]


SCENE = union(
    box((0, 0, 0), (20, 10, 5)),                        # 1 mL
    translate(ring(12, 3.0, 6.0, 4.0), (50, 0, 0)),     # the torus
)
SCENE_ML = [1.0, ring_volume(12, 3.0, 6.0, 4.0) / 1000]


@pytest.mark.parametrize("writer", ["stl", "ascii_stl", "obj", "off", "ply_ascii", "ply_le",
                                    "ply_be"])
def test_every_indexed_format_gives_the_same_figures(harvester: Harvester, tmp_path: Path,
                                                     writer: str) -> None:
    writers = {
        "stl": lambda p: write_stl(p.with_suffix(".stl"), SCENE),
        "ascii_stl": lambda p: write_ascii_stl(p.with_suffix(".stl"), SCENE),
        "obj": lambda p: write_obj(p.with_suffix(".obj"), SCENE),
        "off": lambda p: write_off(p.with_suffix(".off"), SCENE),
        "ply_ascii": lambda p: write_ply(p.with_suffix(".ply"), SCENE, "ascii"),
        "ply_le": lambda p: write_ply(p.with_suffix(".ply"), SCENE, "binary_little_endian"),
        "ply_be": lambda p: write_ply(p.with_suffix(".ply"), SCENE, "binary_big_endian"),
    }
    record = one(harvester, writers[writer](tmp_path / "scene"))
    assert record["kind"] == "mesh"
    assert record["part_count"] == 2
    assert [p["volume_ml"] for p in record["parts"]] == pytest.approx(
        sorted(SCENE_ML, reverse=True), abs=2e-4)
    assert record["volume_ml"] == pytest.approx(sum(SCENE_ML), abs=2e-4)
    assert record["watertight"] is True
    # x: box 0..20, ring 44..56; y: box 0..10, ring -6..6
    assert record["bbox_mm"] == pytest.approx([56.0, 16.0, 5.0], abs=1e-4)
    assert record["warnings"] == []


def test_obj_quads_negative_indices_and_extra_columns(harvester: Harvester, tmp_path: Path) -> None:
    path = tmp_path / "quads.obj"
    corners = [(x, y, z) for z in (0, 3) for y in (0, 2) for x in (0, 1)]
    lines = ["mtllib none.mtl"] + [f"v {x} {y} {z} 1.0 0.5 0.5" for x, y, z in corners]
    quads = [(1, 3, 4, 2), (5, 6, 8, 7), (1, 2, 6, 5), (3, 7, 8, 4), (1, 5, 7, 3), (2, 4, 8, 6)]
    lines += ["f " + " ".join(f"{i - 9}/1/1" for i in q) for q in quads]  # negative = relative
    path.write_text("\n".join(lines) + "\n")
    record = one(harvester, path)
    assert record["volume_ml"] == pytest.approx(0.006)
    assert record["surface_area_mm2"] == pytest.approx(2 * (2 + 3 + 6))
    assert record["watertight"] is True


def test_obj_material_library_is_claimed_without_a_record(harvester: Harvester,
                                                          tmp_path: Path) -> None:
    write_obj(tmp_path / "model.obj", box((0, 0, 0), (10, 10, 10)))
    (tmp_path / "model.mtl").write_text("newmtl bone\nKd 0.9 0.9 0.8\n")
    records = inspect(harvester, tmp_path)
    assert [r["source"]["connector"] for r in records] == ["obj"]


@pytest.mark.parametrize("fmt", ["ascii", "binary_little_endian", "binary_big_endian"])
def test_ply_quads_take_the_general_list_path(harvester: Harvester, tmp_path: Path,
                                              fmt: str) -> None:
    corners = np.array([(x, y, z) for z in (0, 3) for y in (0, 2) for x in (0, 1)], float)
    quads = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
    header = ["ply", f"format {fmt} 1.0", "element vertex 8", "property double x",
              "property double y", "property double z", "element face 6",
              "property list uchar uint vertex_indices", "property uchar flags", "end_header"]
    head = ("\n".join(header) + "\n").encode()
    if fmt == "ascii":
        body = "".join(f"{x} {y} {z}\n" for x, y, z in corners)
        body += "".join("4 " + " ".join(map(str, q)) + " 0\n" for q in quads)
        data = head + body.encode()
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        data = head + corners.astype(order + "f8").tobytes()
        for q in quads:
            data += bytes([4]) + np.array(q, order + "u4").tobytes() + bytes([0])
    path = tmp_path / "quads.ply"
    path.write_bytes(data)
    record = one(harvester, path)
    assert record["volume_ml"] == pytest.approx(0.006)
    assert record["surface_area_mm2"] == pytest.approx(22.0)
    assert record["watertight"] is True


def test_binary_stl_starting_with_solid_is_still_binary(harvester: Harvester,
                                                         tmp_path: Path) -> None:
    path = write_stl(tmp_path / "cad.stl", box((0, 0, 0), (10, 10, 10)),
                     header=b"solid exported by a CAD package")
    record = one(harvester, path)
    assert record["volume_ml"] == 1.0 and record["source"]["connector"] == "stl"


def test_stl_with_trailing_bytes_warns(harvester: Harvester, tmp_path: Path) -> None:
    path = write_stl(tmp_path / "tail.stl", box((0, 0, 0), (10, 10, 10)))
    path.write_bytes(path.read_bytes() + b"\0" * 7)
    record = one(harvester, path)
    assert record["volume_ml"] == 1.0
    assert record["warnings"] == ["7 byte(s) after the last triangle ignored"]


def test_ascii_stl_with_several_solids_and_odd_names(harvester: Harvester,
                                                      tmp_path: Path) -> None:
    a = tmp_path / "a.stl"
    write_ascii_stl(a, box((0, 0, 0), (10, 10, 10)), name="facet vertex 12 3 solid")
    b = tmp_path / "b.stl"
    write_ascii_stl(b, box((20, 0, 0), (21, 1, 1)), name="second")
    path = tmp_path / "two.stl"
    path.write_bytes(a.read_bytes().replace(b"\n", b"\r\n") + b.read_bytes())
    record = one(harvester, path)
    assert record["part_count"] == 2
    assert record["volume_ml"] == pytest.approx(1.001)


def test_ascii_stl_in_upper_case(harvester: Harvester, tmp_path: Path) -> None:
    path = write_ascii_stl(tmp_path / "upper.stl", box((0, 0, 0), (10, 10, 10)), name="part7")
    path.write_text(path.read_text().upper().replace("E+", "e+"))
    record = one(harvester, path)
    assert record["volume_ml"] == pytest.approx(1.0) and record["watertight"] is True


def test_glb_node_transforms_in_metres(harvester: Harvester, tmp_path: Path) -> None:
    cube = box((0, 0, 0), (0.01, 0.01, 0.01))  # 10 mm in metres
    sphere = icosphere(2, radius=0.005)
    s = math.sqrt(0.5)
    nodes: list[dict[str, object]] = [
        {"children": [1, 2], "translation": [1.0, 0, 0], "scale": [2, 2, 2]},  # parent
        {"mesh": 0},                                                          # 20 mm cube
        {"mesh": 0, "translation": [0.05, 0, 0], "rotation": [0, 0, s, s]},   # rotated
        {"mesh": 1, "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0.5, 1]},  # z x3
        {"mesh": 0, "scale": [-1, 1, 1], "translation": [-0.5, 0, 0]},        # mirrored
    ]
    path = write_glb(tmp_path / "scene.glb", [cube, sphere], nodes, [0, 3, 4])
    record = one(harvester, path)
    sphere_ml = polyhedron_volume(sphere) * 1e9 * 3 / 1000
    expected = sorted([8.0, 8.0, sphere_ml, 1.0], reverse=True)
    assert record["part_count"] == 4
    assert [p["volume_ml"] for p in record["parts"]] == pytest.approx(expected, abs=1e-4)
    assert record["parts"][0]["bbox_mm"] == pytest.approx([20.0, 20.0, 20.0], abs=1e-3)
    assert record["watertight"] is True
    # x from the mirrored cube at -510 mm to the rotated cube at 1000 + 2 * 50 mm
    assert record["bbox_mm"][0] == pytest.approx(1100.0 + 510.0, abs=1e-3)


def test_gltf_with_data_uri_and_refused_outside_buffer(harvester: Harvester,
                                                        tmp_path: Path) -> None:
    import base64

    glb = write_glb(tmp_path / "x.glb", [box((0, 0, 0), (0.01, 0.01, 0.01))], [{"mesh": 0}], [0])
    data = glb.read_bytes()
    js_len = int.from_bytes(data[12:16], "little")
    doc = json.loads(data[20:20 + js_len])
    blob = data[20 + js_len + 8:]
    doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + \
        base64.b64encode(blob).decode()
    embedded = tmp_path / "embedded.gltf"
    embedded.write_text(json.dumps(doc))
    assert one(harvester, embedded)["volume_ml"] == pytest.approx(1.0)
    doc["buffers"][0]["uri"] = "../secret.bin"
    escaping = tmp_path / "escaping.gltf"
    escaping.write_text(json.dumps(doc))
    outcome = harvester.harvest_paths([escaping], grouping="root")
    assert "outside the model's folder" in str(outcome.errors[0])


def _instanced_inch_3mf(path: Path) -> Path:
    cube = box((0, 0, 0), (1, 1, 1))  # one inch
    shift = np.eye(4)
    shift[3, :3] = [2, 0, 0]
    lift = np.eye(4)
    lift[3, :3] = [0, 5, 0]
    mirror = np.diag([-1.0, 1, 1, 1])
    mirror[3, :3] = [-3, 0, 0]
    stretch = np.diag([1.0, 1, 2, 1])
    resources = (
        f'<object id="1" name="cube" type="model">{mesh_xml(cube)}</object>'
        '<object id="2" name="pair" type="model"><components>'
        '<component objectid="1"/>'
        f'<component objectid="1" transform="{transform(shift)}"/>'
        "</components></object>"
        f'<object id="3" name="nested" type="model"><components>'
        f'<component objectid="2" transform="{transform(stretch)}"/></components></object>'
    )
    build = (
        f'<item objectid="2" transform="{transform(lift)}"/>'  # two cubes
        '<item objectid="1"/>'                                   # the same cube again
        f'<item objectid="1" transform="{transform(mirror)}"/>'  # mirrored
        '<item objectid="3"/>'                                   # two cubes, twice as tall
    )
    return write_3mf(path, model_xml(resources, build, unit="inch"))


def test_3mf_instances_components_and_inch(harvester: Harvester, tmp_path: Path) -> None:
    record = one(harvester, _instanced_inch_3mf(tmp_path / "instanced.3mf"))
    assert record["source"]["connector"] == "threemf"
    assert record["part_count"] == 6
    volumes = [p["volume_ml"] for p in record["parts"]]
    assert volumes == pytest.approx([2 * IN3_ML] * 2 + [IN3_ML] * 4, abs=1e-4)
    assert record["volume_ml"] == pytest.approx(8 * IN3_ML, abs=1e-4)
    assert record["surface_area_mm2"] == pytest.approx((4 * 6 + 2 * 10) * INCH**2, rel=1e-9)
    assert record["bbox_mm"] == pytest.approx([7 * INCH, 6 * INCH, 2 * INCH])  # x -4..3 in
    assert record["parts"][0]["name"] == "cube" and record["parts"][0]["bbox_mm"] == \
        pytest.approx([INCH, INCH, 2 * INCH])
    assert record["watertight"] is True and record["warnings"] == []


@pytest.mark.parametrize(("unit", "mm"), [("micron", 0.001), ("centimeter", 10.0),
                                           ("foot", 304.8), ("meter", 1000.0)])
def test_3mf_units(harvester: Harvester, tmp_path: Path, unit: str, mm: float) -> None:
    a = 10 / mm  # the box is 10 x 20 x 30 mm in every unit
    cube = mesh_xml(box((0, 0, 0), (a, 2 * a, 3 * a)))
    resources = f'<object id="1" type="model">{cube}</object>'
    path = write_3mf(tmp_path / f"{unit}.3mf", model_xml(resources, '<item objectid="1"/>', unit))
    record = one(harvester, path)
    assert record["bbox_mm"] == pytest.approx([10.0, 20.0, 30.0])
    assert record["volume_ml"] == pytest.approx(6.0)


def test_prusaslicer_project_settings(harvester: Harvester, tmp_path: Path) -> None:
    cube = mesh_xml(box((0, 0, 0), (10, 10, 10)))
    resources = f'<object id="1" name="m" type="model">{cube}</object>'
    meta = '<metadata name="Application">PrusaSlicer-2.6.1+linux-x64</metadata>'
    config = ("; generated by PrusaSlicer 2.6.1\n; filament_type = PLA;PETG\n"
              '; filament_settings_id = "Prusament PLA";"Prusament PETG"\n'
              "; layer_height = 0.15\n")
    model_config = ('<?xml version="1.0"?><config><object id="1" instances_count="1">'
                    '<metadata type="object" key="extruder" value="2"/></object></config>')
    path = write_3mf(tmp_path / "project.3mf",
                     model_xml(resources, '<item objectid="1"/>', metadata=meta),
                     {"Metadata/Slic3r_PE.config": config,
                      "Metadata/Slic3r_PE_model.config": model_config})
    record = one(harvester, path)
    assert record["slicer"] == {"name": "PrusaSlicer", "version": "2.6.1"}
    assert record["layer_height_mm"] == 0.15
    assert [(m["name"], m["type"], m["role"]) for m in record["materials"]] == [
        ("Prusament PETG", "PETG", "model")]
    assert record["volume_ml"] == 1.0


def test_bambu_project_settings(harvester: Harvester, tmp_path: Path) -> None:
    resources = f'<object id="1" type="model">{mesh_xml(box((0, 0, 0), (10, 10, 10)))}</object>'
    meta = '<metadata name="Application">BambuStudio-01.09.00.70</metadata>'
    settings = json.dumps({"filament_type": ["PLA", "TPU"], "layer_height": "0.2",
                           "filament_settings_id": ["Bambu PLA Basic @BBL X1C", "x"]})
    path = write_3mf(tmp_path / "bambu.3mf",
                     model_xml(resources, '<item objectid="1"/>', metadata=meta),
                     {"Metadata/project_settings.config": settings})
    record = one(harvester, path)
    assert record["slicer"] == {"name": "BambuStudio", "version": "01.09.00.70"}
    assert record["layer_height_mm"] == 0.2
    assert [m["type"] for m in record["materials"]] == ["PLA"]


def test_3mf_production_extension_parts(harvester: Harvester, tmp_path: Path) -> None:
    # Bambu Studio / Orca layout: the root model's objects are components whose meshes sit
    # in other model parts (p:path), each with its own unit.
    prod = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
    part = model_xml(f'<object id="7" type="model">{mesh_xml(box((0, 0, 0), (1, 1, 1)))}</object>',
                     "", unit="centimeter")
    resources = (f'<object id="1" type="model" xmlns:p="{prod}"><components>'
                 '<component p:path="/3D/Objects/object_1.model" objectid="7"/></components>'
                 "</object>")
    root = model_xml(resources, '<item objectid="1"/><item objectid="1" transform='
                     '"1 0 0 0 1 0 0 0 1 50 0 0"/>')
    path = write_3mf(tmp_path / "bambu_parts.3mf", root, {"3D/Objects/object_1.model": part})
    record = one(harvester, path)
    assert record["part_count"] == 2
    assert [p["volume_ml"] for p in record["parts"]] == pytest.approx([1.0, 1.0])
    assert record["parts"][0]["bbox_mm"] == pytest.approx([10.0, 10.0, 10.0])


def test_sliced_3mf_scores_below_a_gcode_connector(tmp_path: Path) -> None:
    from printharvest.connectors.mesh.threemf import ThreeMfConnector
    from printharvest.connectors.probe import probe_file

    resources = f'<object id="1" type="model">{mesh_xml(box((0, 0, 0), (1, 1, 1)))}</object>'
    model = model_xml(resources, '<item objectid="1"/>')
    plain = probe_file(write_3mf(tmp_path / "plain.3mf", model))
    sliced = probe_file(write_3mf(tmp_path / "s.gcode.3mf", model,
                                  {"Metadata/plate_1.gcode": "G1 X1\n"}))
    assert ThreeMfConnector().detect(plain) == pytest.approx(0.9)
    assert ThreeMfConnector().detect(sliced) < 0.9


def test_zip_of_meshes_gives_one_record_per_file(harvester: Harvester, tmp_path: Path) -> None:
    stl = write_stl(tmp_path / "a.stl", box((0, 0, 0), (10, 10, 10)))
    ply = write_ply(tmp_path / "b.ply", box((0, 0, 0), (10, 10, 20)))
    three = _instanced_inch_3mf(tmp_path / "c.3mf")
    archive = tmp_path / "job.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in (stl, ply, three):
            zf.write(path, f"job/{path.name}")
    records = inspect(harvester, archive)
    assert [(r["source"]["connector"], r["volume_ml"]) for r in records] == [
        ("stl", 1.0), ("ply", 2.0), ("threemf", pytest.approx(8 * IN3_ML, abs=1e-4))]
    assert all("job.zip!/job/" in r["source"]["path"] for r in records)
