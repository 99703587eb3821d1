"""A file inside a file goes through the real plugin host: the lab's own connector included."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from printharvest.app import App
from printharvest.testing.dicom_synth import uid, write_encapsulated_mesh
from tests.support.cli import CliResult
from tests.support.meshgen import box, write_stl

# A lab's drop-in STL reader (one file in <home>/connectors/): it outscores the built-in
# `stl` (0.9) and marks what it read, so the test can tell who read the nested mesh.
LAB_STL = '''
from printharvest import FileConnector


class LabStl(FileConnector):
    id = "lab-stl"
    label = "The lab's STL reader"
    version = "1"
    patterns = ("*.stl",)

    def detect(self, probe):  # by name, as the connector kit's skeleton does
        return 0.99 if probe.matches(self.patterns) else 0.0

    def harvest(self, probe):
        triangles = int.from_bytes(probe.head[80:84], "little")
        return [self.new_record(probe, "mesh", part_count=triangles,
                                warnings=["read by the lab's STL reader"])]


CONNECTORS = [LabStl]
'''


def _encapsulated_cube(folder: Path) -> Path:
    stl = write_stl(folder / "cube.stl", box((0, 0, 0), (20, 20, 20)))
    study = uid("nested")
    target = folder / "job" / "model.dcm"
    target.parent.mkdir(parents=True)
    write_encapsulated_mesh(target, stl.read_bytes(), mime="model/stl", study_uid=study,
                            series_uid=uid(study, "m3d"))
    stl.unlink()
    return target


def _inspect(run_cli: Callable[..., CliResult], home: Path,
             path: Path) -> list[dict[str, Any]]:
    result = run_cli("--home", str(home), "inspect", "--json", str(path))
    assert result.code == 0, result.err
    records: list[dict[str, Any]] = json.loads(result.out)
    return records


def test_a_labs_mesh_connector_reads_the_mesh_inside_a_dicom_object(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    model = _encapsulated_cube(tmp_path)
    home = tmp_path / "home"

    # Without the drop-in, the built-in STL connector reads the encapsulated mesh.
    (built_in,) = _inspect(run_cli, home, model)
    assert built_in["part_count"] == 1 and built_in["volume_ml"] == 8.0
    assert "read by the lab's STL reader" not in built_in["warnings"]

    (home / "connectors").mkdir(parents=True, exist_ok=True)
    (home / "connectors" / "lab_stl.py").write_text(LAB_STL, encoding="utf-8")
    app = App.open(home)  # the host the CLI uses loads it as a drop-in
    try:
        assert app.host.connectors["lab-stl"].route == "drop-in"
    finally:
        app.close()

    (nested,) = _inspect(run_cli, home, model)
    assert nested["kind"] == "mesh"
    assert nested["part_count"] == 12  # the lab's reader counted the cube's 12 triangles
    assert "read by the lab's STL reader" in nested["warnings"]
    assert "mesh encapsulated in DICOM (M3D)" in nested["warnings"]
    source = nested["source"]
    assert source["connector"] == "dicom" and source["path"] == str(model)
