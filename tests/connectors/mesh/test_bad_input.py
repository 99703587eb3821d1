"""Hostile and broken mesh files: one line naming the file and the reason, exit 1."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.support.cli import CliResult
from tests.support.meshgen import (
    box,
    mesh_xml,
    model_xml,
    write_3mf,
    write_ascii_stl,
    write_glb,
    write_ply,
    write_stl,
)

CUBE = box((0, 0, 0), (10, 10, 10))
CUBE_XML = f'<object id="1" type="model">{mesh_xml(CUBE)}</object>'
ONE_ITEM = '<item objectid="1"/>'


def _truncated_stl(p: Path) -> Path:
    data = write_stl(p / "t.stl", CUBE).read_bytes()
    (p / "t.stl").write_bytes(data[:84 + 50 * 5 + 17])
    return p / "t.stl"


def _billion_stl(p: Path) -> Path:
    path = p / "billion.stl"
    path.write_bytes(b"\0" * 80 + struct.pack("<I", 1_000_000_000) + b"\0" * 500)
    return path


def _nan_stl(p: Path) -> Path:
    v, f = CUBE
    v = v.copy()
    v[3, 1] = np.nan
    return write_stl(p / "nan.stl", (v, f))


def _ascii_cut(p: Path) -> Path:
    path = write_ascii_stl(p / "cut.stl", CUBE)
    text = path.read_text()
    path.write_text(text[: text.rfind("vertex")])
    return path


def _ascii_junk(p: Path) -> Path:
    path = write_ascii_stl(p / "junk.stl", CUBE)
    path.write_text(path.read_text().replace("vertex 10", "vertex 1x0", 1))
    return path


def _ascii_nan(p: Path) -> Path:
    path = write_ascii_stl(p / "nan.stl", CUBE)
    path.write_text(path.read_text().replace("vertex 10", "vertex nan", 1))
    return path


def _laughs(p: Path) -> Path:
    entities = '<!ENTITY a "ha">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    model = (f'<?xml version="1.0"?><!DOCTYPE model [{entities}]>'
             + model_xml(CUBE_XML, ONE_ITEM).split("?>", 1)[1].replace(
                 'xml:lang="en-US"', 'xml:lang="&j;"'))
    return write_3mf(p / "laughs.3mf", model)


def _external_entity(p: Path) -> Path:
    model = ('<?xml version="1.0"?><!DOCTYPE model [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
             + model_xml(CUBE_XML, ONE_ITEM).split("?>", 1)[1].replace(
                 'unit="millimeter"', 'unit="&x;"'))
    return write_3mf(p / "xxe.3mf", model)


def _malformed_xml(p: Path) -> Path:
    return write_3mf(p / "bad.3mf", model_xml(CUBE_XML, ONE_ITEM).replace("</build>", "</bui"))


def _bomb_3mf(p: Path) -> Path:
    path = p / "bomb.3mf"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("3D/3dmodel.model", b" " * (40 << 20))
    return path


def _component_cycle(p: Path) -> Path:
    resources = ('<object id="1" type="model"><components><component objectid="2"/>'
                 '</components></object><object id="2" type="model"><components>'
                 '<component objectid="1"/></components></object>')
    return write_3mf(p / "cycle.3mf", model_xml(resources, ONE_ITEM))


def _component_explosion(p: Path) -> Path:
    resources = CUBE_XML + "".join(
        f'<object id="{i}" type="model"><components>'
        + f'<component objectid="{i - 1}"/>' * 10 + "</components></object>"
        for i in range(2, 9))
    return write_3mf(p / "explode.3mf", model_xml(resources, '<item objectid="8"/>'))


def _bad_unit(p: Path) -> Path:
    return write_3mf(p / "unit.3mf", model_xml(CUBE_XML, ONE_ITEM, unit="furlong"))


def _obj_bad_index(p: Path) -> Path:
    path = p / "bad.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")
    return path


def _ply_truncated(p: Path) -> Path:
    path = write_ply(p / "t.ply", CUBE)
    path.write_bytes(path.read_bytes()[:-20])
    return path


def _glb_truncated(p: Path) -> Path:
    path = write_glb(p / "t.glb", [CUBE], [{"mesh": 0}], [0])
    path.write_bytes(path.read_bytes()[:-40])
    return path


def _zip_bomb(p: Path) -> Path:
    path = p / "job.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.stl", b"\0" * (40 << 20))
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "truncated binary STL": (_truncated_stl, "binary STL truncated"),
    "billion-triangle header": (_billion_stl, "header says 1000000000 triangles"),
    "NaN vertex": (_nan_stl, "NaN or infinite"),
    "ASCII cut in a facet": (_ascii_cut, "truncated"),
    "ASCII NaN vertex": (_ascii_nan, "NaN or infinite"),
    "ASCII junk number": (_ascii_junk, "unreadable number"),
    "3MF entity expansion": (_laughs, "DTD or entities"),
    "3MF external entity": (_external_entity, "DTD or entities"),
    "3MF malformed XML": (_malformed_xml, "not well-formed XML"),
    "3MF zip bomb": (_bomb_3mf, "zip bomb"),
    "3MF component cycle": (_component_cycle, "nest too deeply"),
    "3MF component explosion": (_component_explosion, "more than 10000 parts"),
    "3MF unknown unit": (_bad_unit, "unit 'furlong'"),
    "OBJ index out of range": (_obj_bad_index, "does not exist"),
    "PLY truncated": (_ply_truncated, "PLY truncated"),
    "GLB truncated": (_glb_truncated, "GLB truncated"),
    "zip bomb": (_zip_bomb, "zip bomb"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_mesh_is_one_line_naming_file_and_reason(
    case: str, tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    make, reason = CASES[case]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    path = make(inputs)
    before = sorted(tmp_path.rglob("*"))
    result = run_cli("inspect", "--json", str(path))
    assert result.code == 1
    assert result.out.strip() == "[]"
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(path) in lines[0] and reason in lines[0], lines[0]
    assert "Traceback" not in result.err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written beside the input


def test_external_entity_content_never_appears(tmp_path: Path,
                                               run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("inspect", "--json", str(_external_entity(tmp_path)))
    assert "root:" not in result.out + result.err
