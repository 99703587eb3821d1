"""Part names exporters keep (STL ``solid``, OBJ ``o``/``g``) name a file's single body."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.connectors.mesh.names import useful_name
from printharvest.connectors.mesh.obj import ObjConnector
from printharvest.connectors.mesh.stl import StlConnector
from printharvest.connectors.probe import probe_file

TETRA = [((0, 0, 0), (0, 1, 0), (1, 0, 0)), ((0, 0, 0), (1, 0, 0), (0, 0, 1)),
         ((0, 0, 0), (0, 0, 1), (0, 1, 0)), ((1, 0, 0), (0, 1, 0), (0, 0, 1))]


def ascii_stl(name: str, shift: float = 0.0, copies: int = 1) -> str:
    facets = []
    for n in range(copies):
        for tri in TETRA:
            corners = "".join(f"      vertex {x * 10 + n * 30 + shift} {y * 10} {z * 10}\n"
                              for x, y, z in tri)
            facets.append(f"  facet normal 0 0 0\n    outer loop\n{corners}    endloop\n"
                          "  endfacet\n")
    return f"solid {name}\n{''.join(facets)}endsolid {name}\n"


def obj(name_line: str, copies: int = 1) -> str:
    lines = [name_line]
    for n in range(copies):
        lines += [f"v {n * 30} 0 0", f"v {n * 30 + 10} 0 0", f"v {n * 30} 10 0",
                  f"v {n * 30} 0 10"]
        b = 4 * n
        lines += [f"f {b + 1} {b + 3} {b + 2}", f"f {b + 1} {b + 2} {b + 4}",
                  f"f {b + 1} {b + 4} {b + 3}", f"f {b + 2} {b + 3} {b + 4}"]
    return "\n".join(lines) + "\n"


def parts(connector: object, path: Path) -> list[str | None]:
    [record] = connector.harvest(probe_file(path))  # type: ignore[attr-defined]
    return [p.name for p in record.parts]


def test_stl_solid_name_names_the_single_body(tmp_path: Path) -> None:
    path = tmp_path / "Segment_1.stl"
    path.write_text(ascii_stl("Left kidney"))
    assert parts(StlConnector(), path) == ["Left kidney"]
    two = tmp_path / "two.stl"
    two.write_text(ascii_stl("Left kidney", copies=2))
    assert parts(StlConnector(), two) == [None, None]  # which body would it name?


def test_obj_object_name_names_the_single_body(tmp_path: Path) -> None:
    path = tmp_path / "export.obj"
    path.write_text(obj("o Liver"))
    assert parts(ObjConnector(), path) == ["Liver"]
    generic = tmp_path / "generic.obj"
    generic.write_text(obj("g default"))
    assert parts(ObjConnector(), generic) == [None]


@pytest.mark.parametrize("raw", ["ascii", "", "OpenSCAD_Model", "Visualization Toolkit "
                                 "generated SLA File", "Exported from Blender-3.6.2", "42",
                                 "x" * 200])
def test_generic_exporter_names_are_not_part_names(raw: str) -> None:
    assert useful_name(raw) is None


@pytest.mark.parametrize("comments", [
    # 3D Slicer saving a model as PLY: VTK's banner, its obj_info, Slicer's coordinate system
    ["comment VTK generated PLY File", "obj_info vtkPolyData points and polygons: vtk4.0",
     "comment SPACE=LPS"],
    # MeshLab (vcglib): a banner, and a texture's *file* name (local text, not a part name)
    ["comment VCGLIB generated", "comment TextureFile Jane_Doe_kidney.png"],
    ["comment Created in Blender version 4.1.0"],
])
def test_ply_comments_name_no_part(tmp_path: Path, comments: list[str]) -> None:
    """No exporter found writes a part name in a PLY ``comment`` (VTK / Slicer, vcglib /
    MeshLab, Blender write banners, a coordinate system or a texture file name), so PLY
    comments are not read as names: the body stays unnamed."""
    from printharvest.connectors.mesh.ply import PlyConnector

    header = ["ply", "format ascii 1.0", *comments, "element vertex 4", "property float x",
              "property float y", "property float z", "element face 4",
              "property list uchar int vertex_indices", "end_header"]
    body = ["0 0 0", "10 0 0", "0 10 0", "0 0 10", "3 0 2 1", "3 0 1 3", "3 0 3 2", "3 1 2 3"]
    path = tmp_path / "kidney.ply"
    path.write_text("\n".join(header + body) + "\n")
    assert parts(PlyConnector(), path) == [None]
