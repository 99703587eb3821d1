"""DICOM: the imaging object of synthetic series and studies, odd layouts, bad input."""

from __future__ import annotations

import json
import random
import sqlite3
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from printharvest.app import App
from printharvest.connectors.dicom.connector import DicomConnector
from printharvest.connectors.probe import FileProbe
from printharvest.privacy import phi
from printharvest.testing.dicom_synth import (
    uid,
    write_dicomdir_like,
    write_encapsulated_mesh,
    write_slice,
)
from tests.support.paths import DEMO_CASES


def imaging(run_cli: Any, *paths: Path, code: int = 0) -> list[dict[str, Any]]:
    """The imaging objects ``inspect --json`` prints for ``paths``."""
    result = run_cli("inspect", "--json", *map(str, paths))
    assert result.code == code, result.err
    return [r["imaging"] for r in json.loads(result.out) if r["kind"] == "imaging"]


def series(folder: Path, modality: str, study: str, name: str, count: int = 2,
           **attributes: Any) -> list[Path]:
    """Write ``count`` slices of one series."""
    return [write_slice(folder / name / f"{n:03d}.dcm", modality=modality, study_uid=study,
                        series_uid=uid(study, name), number=n, attributes=attributes)
            for n in range(1, count + 1)]


def test_multi_study_imaging_object(tmp_path: Path, run_cli: Any) -> None:
    root = tmp_path / "set"
    ct, mr = uid("t", "ct"), uid("t", "mr")
    series(root, "CT", ct, "a", SliceThickness="1.25", Manufacturer="GE",
           ContrastBolusAgent="IOHEXOL", PatientAge="072Y", PatientSex="F")
    series(root, "CT", ct, "b", SliceThickness="0.6", Manufacturer="GE", PatientSex="F")
    series(root, "MR", mr, "c", count=3, SliceThickness="3", Manufacturer="Philips Medical",
           PatientAge="072Y", PatientSex="F")
    [found] = imaging(run_cli, root)
    assert found == {
        "modalities": ["CT", "MR"], "study_count": 2, "series_count": 3,
        "slice_thickness_mm": 0.6, "scanner_manufacturers": ["GE", "Philips Medical"],
        "contrast": True, "patient_age_years": 72, "patient_sex": "F",
    }


def test_age_rules_over_89_and_birth_date_fallback(tmp_path: Path, run_cli: Any) -> None:
    old = series(tmp_path / "old", "CT", uid("old"), "s", PatientAge="095Y")
    [found] = imaging(run_cli, old[0].parent)
    assert found["patient_age_years"] == 90
    born = series(tmp_path / "born", "CT", uid("born"), "s", PatientBirthDate="19800615",
                  StudyDate="20260614", PatientSex="M")
    [found] = imaging(run_cli, born[0].parent)
    assert (found["patient_age_years"], found["patient_sex"]) == (45, "M")
    ancient = series(tmp_path / "ancient", "CT", uid("ancient"), "s",
                     PatientBirthDate="19200101", StudyDate="20260101")
    assert imaging(run_cli, ancient[0].parent)[0]["patient_age_years"] == 90
    none = series(tmp_path / "none", "MR", uid("none"), "s", PatientSex="X")
    [found] = imaging(run_cli, none[0].parent)
    assert found["patient_age_years"] is None and found["patient_sex"] is None
    assert found["contrast"] is None and found["slice_thickness_mm"] is None


def test_phi_age_helpers() -> None:
    assert phi.age_from_dicom("045Y") == 45
    assert phi.age_from_dicom("018M") == 1
    assert phi.age_from_dicom("003W") == 0
    assert phi.age_from_dicom("120Y") == 90
    assert phi.age_from_dicom("junk") is None
    assert phi.age_between(phi.parse_da("20000301"), phi.parse_da("20260228")) == 25
    assert phi.age_between(phi.parse_da("20000301"), phi.parse_da("20260301")) == 26
    assert phi.age_between(phi.parse_da("20300101"), phi.parse_da("20260101")) is None
    assert phi.parse_da("2026.01.05") is not None and phi.parse_da("20261345") is None


def test_layouts_preamble_meta_extension_implicit(tmp_path: Path, run_cli: Any) -> None:
    study = uid("layouts")
    common = {"Manufacturer": "X", "SliceThickness": "2"}
    variants: list[tuple[str, dict[str, Any]]] = [
                ("with.dcm", {}), ("no_preamble.dcm", {"preamble": False}),
                ("BARE", {"preamble": False, "meta": False}), ("IMPLICIT", {"implicit": True}),
                ("BARE_IMPLICIT", {"preamble": False, "meta": False, "implicit": True})]
    for number, (name, how) in enumerate(variants, 1):
        write_slice(tmp_path / "set" / name, modality="CT", study_uid=study,
                    series_uid=uid(study, name), number=number, attributes=common, **how)
    assert (tmp_path / "set" / "BARE").read_bytes()[:2] == b"\x08\x00"
    [found] = imaging(run_cli, tmp_path / "set")
    assert (found["study_count"], found["series_count"]) == (1, len(variants))
    assert found["slice_thickness_mm"] == 2.0


def test_dicomdir_is_ignored_in_folders_and_zips(tmp_path: Path, run_cli: Any) -> None:
    root = tmp_path / "media"
    series(root, "CT", uid("dd"), "s")
    write_dicomdir_like(root / "DICOMDIR")
    write_dicomdir_like(root / "INDEX.DIR")  # a directory under another name
    [found] = imaging(run_cli, root)
    assert found["series_count"] == 1
    archive = tmp_path / "media.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, path.relative_to(root).as_posix())
    assert imaging(run_cli, archive) == [found]
    only = tmp_path / "only"
    write_dicomdir_like(only / "DICOMDIR.dcm")
    # Alone, a DICOMDIR says why nothing came of it (an empty answer looks like success).
    assert imaging(run_cli, only, code=1) == []
    alone = run_cli("inspect", str(only))
    assert "DICOMDIR: an index of a media set, holds no image itself" in alone.err


def test_demo_cases_have_imaging(run_cli: Any) -> None:
    [kidney] = imaging(run_cli, DEMO_CASES / "3DP-2026-001_kidney" / "dicom")
    assert kidney == {"modalities": ["CT"], "study_count": 1, "series_count": 1,
                      "slice_thickness_mm": 1.0, "scanner_manufacturers": ["GE MEDICAL SYSTEMS"],
                      "contrast": True, "patient_age_years": 63, "patient_sex": "F"}
    [mandible] = imaging(run_cli, DEMO_CASES / "3DP-2026-002_mandible" / "dicom")
    assert mandible == {"modalities": ["MR"], "study_count": 1, "series_count": 2,
                        "slice_thickness_mm": 2.5, "scanner_manufacturers": ["SIEMENS"],
                        "contrast": None, "patient_age_years": 45, "patient_sex": "M"}
    # Both patients' files as one set: age and sex of nobody in particular, so unknown.
    [both] = imaging(run_cli, DEMO_CASES)  # job files only: every file is read
    assert (both["patient_age_years"], both["patient_sex"]) == (None, None)
    assert both["study_count"] == 3 and both["modalities"] == ["CT", "MR"]


def _corrupt_inputs(folder: Path, good: Path) -> dict[str, str]:
    data = good.read_bytes()
    png = folder / "scan.dcm"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    truncated = folder / "truncated.dcm"
    truncated.write_bytes(data[: len(data) - 50])
    cut_header = folder / "cut_header.dcm"
    cut_header.write_bytes(data[:400])
    broken = bytearray(data)
    at = broken.index(b"CS\x02\x00CT")  # the Modality element: claim 60000 bytes
    broken[at + 2:at + 4] = (60000).to_bytes(2, "little")
    (folder / "broken_length.dcm").write_bytes(bytes(broken))
    return {"scan.dcm": "not a DICOM file (PNG image)",
            "truncated.dcm": "DICOM pixel data runs past the end of the file",
            "cut_header.dcm": "runs past the end of the file",
            "broken_length.dcm": "(0008,0060) Modality runs past the end of the file"}


def test_corrupt_files_are_one_line_errors_and_the_rest_is_kept(tmp_path: Path,
                                                                run_cli: Any) -> None:
    root = tmp_path / "set"
    good = series(root, "CT", uid("c"), "s", count=3)
    expected = _corrupt_inputs(root, good[0])
    result = run_cli("inspect", "--json", str(root))
    assert result.code == 1
    [record] = json.loads(result.out)
    assert record["imaging"]["series_count"] == 1
    assert (f"{len(expected)} of {len(expected) + 3} DICOM file(s) in this set could not be"
            " read and were left out") in record["warnings"]
    lines = result.err.strip().splitlines()
    assert len(lines) == len(expected) and "Traceback" not in result.err
    for name, reason in expected.items():
        [line] = [x for x in lines if f"{name}:" in x]
        assert line.startswith(f"error: {root / name}: ") and reason in line
    for name in expected:  # alone, each is an error and never a record of nulls
        alone = run_cli("inspect", "--json", str(root / name))
        assert alone.code == 1 and json.loads(alone.out) == []


def test_detect_never_raises(tmp_path: Path) -> None:
    connector = DicomConnector()
    rng = random.Random(7)
    heads = [b"", b"DICM", bytes(128) + b"DICM", b"\x08\x00", b"\x02\x00\x10\x00UI\xff\xff"]
    heads += [rng.randbytes(rng.randint(0, 300)) for _ in range(300)]
    heads += [bytes(128) + b"DICM" + rng.randbytes(40) for _ in range(100)]
    for head in heads:
        probe = FileProbe(path=tmp_path / "x", display_path="x.dcm", size=len(head),
                          sha256="0", head=head, tail=head)
        assert 0.0 <= connector.detect(probe) <= 1.0
        records, errors = connector.harvest_files([probe])
        assert records == [] and len(errors) == 1


def test_encapsulated_stl_is_a_mesh_record(tmp_path: Path, run_cli: Any) -> None:
    from sample_jobs_dicom import cube_stl  # type: ignore[import-not-found]

    study = uid("m3d")
    root = tmp_path / "job"
    series(root, "CT", study, "ct", count=2, SliceThickness="1")
    write_encapsulated_mesh(root / "model.dcm", cube_stl(20.0), mime="model/stl",
                            study_uid=study, series_uid=uid(study, "m3d"),
                            source_series_uid=uid(study, "ct"))
    result = run_cli("inspect", "--json", str(root))
    assert result.code == 0, result.err
    records = {r["kind"]: r for r in json.loads(result.out)}
    assert records["imaging"]["imaging"]["modalities"] == ["CT"]
    assert records["imaging"]["imaging"]["series_count"] == 1  # the M3D series is the model
    mesh = records["mesh"]
    assert (mesh["part_count"], mesh["volume_ml"], mesh["bbox_mm"]) == (1, 8.0, [20, 20, 20])
    assert mesh["source"]["connector"] == "dicom"
    assert mesh["source"]["path"] == str(root / "model.dcm")


def test_second_series_later_does_not_double_the_study(tmp_path: Path, run_cli: Any) -> None:
    home = tmp_path / "home"
    home.mkdir()  # only init and demo make a home
    study = uid("later")
    drop1, drop2, drop3 = (tmp_path / f"drop{i}" / "3DP-2026-050" for i in (1, 2, 3))
    series(drop1, "CT", study, "first", count=2)
    series(drop2, "CT", study, "second", count=2)
    series(drop3, "MR", uid("other"), "third", count=2)

    def study_count() -> Any:
        shown = json.loads(run_cli("--home", str(home), "cases", "show", "1", "--json").out)
        return shown["fields"]["imaging.study_count"]["value"]

    assert run_cli("--home", str(home), "ingest", str(drop1.parent)).code == 0
    assert study_count() == 1
    assert run_cli("--home", str(home), "ingest", str(drop2.parent)).code == 0
    assert study_count() == 1
    assert run_cli("--home", str(home), "ingest", str(drop3.parent)).code == 0
    assert study_count() == 2
    salt = home / phi.SALT_NAME
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
    with sqlite3.connect(home / "printharvest.db") as conn:
        rows = conn.execute("SELECT study_hash, series_hash FROM imaging_series").fetchall()
    assert len(rows) == 3 and {r[0] for r in rows} == {
        phi.salted_hash(salt.read_bytes(), study),
        phi.salted_hash(salt.read_bytes(), uid("other"))}


def test_salt_is_created_once_and_kept(tmp_path: Path) -> None:
    first = phi.home_salt(tmp_path / "h")
    assert phi.home_salt(tmp_path / "h") == first and len(first) == phi.SALT_BYTES
    assert phi.salted_hash(first, "1.2.3") != phi.salted_hash(phi.home_salt(tmp_path / "g"),
                                                             "1.2.3")


def test_app_hands_the_home_salt(tmp_path: Path) -> None:
    app = App.open(tmp_path / "home")
    connector = app.host.connectors["dicom"].connector
    assert isinstance(connector, DicomConnector)
    assert connector.context.salt() == phi.home_salt(tmp_path / "home")
    app.close()


@pytest.fixture(autouse=True)
def _sample_script_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sample_jobs/make_dicom.py`` holds the cube STL writer; import it by path."""
    import importlib.util
    import sys

    path = DEMO_CASES.parent / "make_dicom.py"
    spec = importlib.util.spec_from_file_location("sample_jobs_dicom", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "sample_jobs_dicom", module)


def test_process_pool_gives_the_same_record(tmp_path: Path) -> None:
    from printharvest.connectors.probe import probe_file

    paths = series(tmp_path, "CT", uid("pool"), "a", count=3, SliceThickness="2")
    paths += series(tmp_path, "CT", uid("pool2"), "b", count=3, SliceThickness="1")
    (tmp_path / "bad.dcm").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    paths.append(tmp_path / "bad.dcm")
    probes = [probe_file(p) for p in paths]
    alone, pooled = DicomConnector(), DicomConnector()
    pooled.parallel_min_files, pooled.parallel_min_cpus = 1, 1
    one, errors_one = alone.harvest_files(probes)
    many, errors_many = pooled.harvest_files(probes)
    assert [str(e) for e in errors_one] == [str(e) for e in errors_many]
    assert [e.reason for e in errors_many] == ["not a DICOM file (PNG image)"]
    assert [r.to_json_dict() for r in one] == [r.to_json_dict() for r in many]
    assert one[0].imaging is not None and one[0].imaging.study_count == 2


def _explicit_element(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    import struct

    if vr in (b"SQ", b"OB", b"UT", b"UN"):
        return struct.pack("<HH2s2xI", group, element, vr, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def test_hostile_structures_are_refused_quickly(tmp_path: Path, run_cli: Any) -> None:
    import struct

    start = bytes(128) + b"DICM" + _explicit_element(
        0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1\x00")
    modality = _explicit_element(0x0008, 0x0060, b"CS", b"CT")
    # 10,000 nested undefined-length sequences, never closed
    nested = struct.pack("<HH2s2xI", 0x0008, 0x1115, b"SQ", 0xFFFFFFFF)
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    (tmp_path / "deep.dcm").write_bytes(start + modality + (nested + item) * 10_000)
    # an element claiming 4 GiB
    huge = struct.pack("<HH2s2xI", 0x0009, 0x1001, b"OB", 0xFFFFFFF0)
    (tmp_path / "huge.dcm").write_bytes(start + modality + huge + bytes(16))
    result = run_cli("inspect", "--json", str(tmp_path))
    assert result.code == 1 and json.loads(result.out) == []
    lines = sorted(result.err.strip().splitlines())
    assert len(lines) == 2 and "Traceback" not in result.err
    assert "deep.dcm: DICOM sequences are nested too deeply" in lines[0]
    assert "huge.dcm: DICOM element (0009,1001) runs past the end of the file" in lines[1]


def test_encapsulated_obj_is_a_mesh_or_one_line(tmp_path: Path, run_cli: Any) -> None:
    obj = b"v 0 0 0\nv 10 0 0\nv 0 10 0\nv 0 0 10\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"
    study = uid("obj")
    write_encapsulated_mesh(tmp_path / "model.dcm", obj, mime="model/obj", study_uid=study,
                            series_uid=uid(study, "m3d"))
    result = run_cli("inspect", "--json", str(tmp_path / "model.dcm"))
    records = json.loads(result.out)
    if result.code == 0:  # a mesh connector for OBJ is installed
        assert [r["kind"] for r in records] == ["mesh"]
        assert records[0]["part_count"] == 1
    else:
        assert records == [] and len(result.err.strip().splitlines()) == 1
        assert "no mesh connector reads the encapsulated model/obj" in result.err


def test_inspect_writes_nothing_into_the_home(tmp_path: Path, run_cli: Any) -> None:
    home = tmp_path / "not-yet"
    result = run_cli("--home", str(home), "inspect", "--json",
                     str(DEMO_CASES / "3DP-2026-001_kidney" / "dicom"))
    assert result.code == 0 and '"patient_age_years": 63' in result.out
    assert not home.exists()  # no salt file, no store, no home made by a command that looks
