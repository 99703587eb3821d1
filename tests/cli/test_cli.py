"""CLI behaviour: exit codes, one-line errors, walking folders and zips, demo, cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import DEMO_CASES


def test_unknown_file_is_one_line_exit_1_after_the_rest(tmp_path: Path, run_cli,
                                                        sample_gcode: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "notes.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    result = run_cli("inspect", "--json", str(junk), str(sample_gcode))
    assert result.code == 1
    assert len(json.loads(result.out)) == 1  # the good file was still harvested
    lines = result.err.strip().splitlines()
    assert lines == [f"error: {junk}: no connector recognises this file"]


def test_truncated_stl_is_an_error_not_a_record(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    stl = DEMO_CASES / "3DP-2026-001_kidney" / "kidney_tumour.stl"
    broken = tmp_path / "broken.stl"
    broken.write_bytes(stl.read_bytes()[:5000])
    result = run_cli("inspect", "--json", str(broken))
    assert result.code == 1
    assert json.loads(result.out) == []
    assert "Traceback" not in result.err and str(broken) in result.err


def test_missing_path_and_usage_errors(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("inspect", str(tmp_path / "nope")).code == 1
    assert run_cli("inspect").code == 2
    assert run_cli("no-such-command").code == 2
    assert run_cli("--help").code == 0


def test_inspect_walks_folders_and_zips(tmp_path: Path, run_cli,  # type: ignore[no-untyped-def]
                                        sample_jobs_copy: Path) -> None:
    job = sample_jobs_copy / "3DP-2026-002_mandible"
    archive = tmp_path / "job.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(p for p in job.rglob("*") if p.is_file()):
            zf.write(path, f"inner/{path.relative_to(job).as_posix()}")
        zf.writestr("../escape.stl", b"solid x\nendsolid x\n")
    folder = run_cli("inspect", "--json", str(job))
    zipped = run_cli("inspect", "--json", str(archive))
    assert folder.code == 0
    kinds = sorted(r["kind"] for r in json.loads(folder.out))
    assert kinds == ["imaging", "mesh", "print"]
    assert sorted(r["kind"] for r in json.loads(zipped.out)) == kinds
    assert zipped.code == 1 and "unsafe member name" in zipped.err
    assert not (tmp_path / "escape.stl").exists()
    paths = [r["source"]["path"] for r in json.loads(zipped.out)]
    assert all("job.zip!/inner/" in p for p in paths)


def test_ingest_and_cases(home: Path, sample_jobs_copy: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--home", str(home), "ingest", str(sample_jobs_copy))
    assert result.code == 0, result.err
    listing = json.loads(run_cli("--home", str(home), "cases", "list", "--json").out)
    assert [c["case_key"] for c in listing] == ["3DP-2026-001", "3DP-2026-002",
                                               "3DP-2026-003"]
    first = listing[0]
    assert {"id", "case_key", "status", "records", "missing"} <= set(first)
    assert first["status"] == "needs_clinical"
    assert all(r["source"]["sha256"] for r in first["records"])
    assert "imaging.indication" in first["missing"]
    shown = json.loads(run_cli("--home", str(home), "cases", "show", "1", "--json").out)
    technology = shown["fields"]["prints.1.technology"]
    assert technology["value"] == "material_extrusion"
    assert technology["provenance"]["connector"] == "prusaslicer"
    assert technology["provenance"]["rule"].startswith("printers.yaml#")
    assert shown["fields"]["model.part_count"]["value"] == 2
    assert run_cli("--home", str(home), "cases", "show", "99").code == 1


def test_case_key_rule_joins_loose_files(home: Path, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    inbox = tmp_path / "drop"
    inbox.mkdir()
    job = DEMO_CASES / "3DP-2026-002_mandible"
    shutil.copy(job / "mandible_guide.stl", inbox / "3DP-2026-777 guide mesh.stl")
    shutil.copy(job / "mandible_guide.gcode", inbox / "printed 3DP-2026-777.gcode")
    assert run_cli("--home", str(home), "ingest", str(inbox)).code == 0
    listing = json.loads(run_cli("--home", str(home), "cases", "list", "--json").out)
    assert [(c["case_key"], len(c["records"])) for c in listing] == [("3DP-2026-777", 2)]


def test_demo_prints_prefilled_cases(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "demo"
    result = run_cli("demo", "--keep", str(home))
    assert result.code == 0, result.err
    assert "3DP-2026-001" in result.out and "clinical to fill" in result.out
    assert "clinical to fill: imaging.organ_system, imaging.indication" in result.out
    assert "effort.* (8)" in result.out
    # The jobs went the inbox service's way: inbox emptied, originals archived, and case
    # numbers in inbox order (the README's walk-through relies on them).
    assert "12 record(s) into 3 case(s)" in result.out
    assert not any(p.is_file() for p in (home / "inbox").rglob("*"))
    assert any(p.is_file() for p in (home / "archive").rglob("*"))
    listing = json.loads(run_cli("--home", str(home), "cases", "list", "--json").out)
    assert [(c["id"], c["case_key"]) for c in listing] == [(1, "3DP-2026-001"),
                                                           (2, "3DP-2026-002"),
                                                           (3, "3DP-2026-003")]


def test_doctor_and_connectors_list(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    doctor = run_cli("--home", str(home), "doctor")
    assert doctor.code == 0, doctor.out
    assert "DRAFT" in doctor.out
    listing = run_cli("--home", str(home), "connectors", "list")
    assert "prusaslicer" in listing.out and "built-in" in listing.out


@pytest.mark.slow
def test_console_script_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "printharvest", "--home", str(tmp_path),
                             "inspect", str(tmp_path / "missing.stl")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr


def test_pipes_and_devices_are_refused_not_read(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    import os

    folder = tmp_path / "job"
    folder.mkdir()
    os.mkfifo(folder / "pipe.stl")
    (folder / "gone.stl").symlink_to(tmp_path / "missing.stl")
    single = run_cli("inspect", str(folder / "pipe.stl"))
    assert single.code == 1
    assert single.err.strip() == (f"error: {folder / 'pipe.stl'}: not a regular file "
                                  "(a pipe, device or socket)")
    walked = run_cli("inspect", str(folder))
    assert walked.code == 1
    assert "pipe.stl: not a regular file" in walked.err and "gone.stl: broken link" in walked.err
    device = run_cli("inspect", "/dev/zero")
    assert device.code == 1 and "not a regular file" in device.err


def test_ingest_of_one_job_folder_makes_one_case(home: Path, sample_jobs_copy: Path,
                                                 run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    job = sample_jobs_copy / "3DP-2026-001_kidney"
    plain = sample_jobs_copy / "liver job"
    shutil.copytree(sample_jobs_copy / "3DP-2026-002_mandible", plain)
    monkeypatch.chdir(sample_jobs_copy)
    assert run_cli("--home", str(home), "ingest", job.name).code == 0
    assert run_cli("--home", str(home), "ingest", str(plain)).code == 0
    listing = json.loads(run_cli("--home", str(home), "cases", "list", "--json").out)
    # The lab job number rule names the first; the second is keyed by its folder name.
    assert [(c["case_key"], len(c["records"])) for c in listing] == [
        ("3DP-2026-001", 3), ("liver job", 3)]
    # Stored paths are absolute, whatever folder the command ran from.
    assert all(Path(r["source"]["path"]).is_absolute() for c in listing for r in c["records"])


def test_truncated_zip_says_so(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    from tests.support.paths import SAMPLE_JOBS

    data = (SAMPLE_JOBS / "formats" / "ufp" / "block.ufp").read_bytes()
    cut = tmp_path / "cut.ufp"
    cut.write_bytes(data[: len(data) // 2])
    result = run_cli("inspect", str(cut))
    assert result.code == 1
    assert result.err.strip() == (f"error: {cut}: zip archive is truncated or damaged "
                                  "(no readable member list)")


def test_status_on_a_mistyped_home_creates_nothing(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "typo"
    result = run_cli("--home", str(home), "status")
    assert result.code == 2 and "no printharvest home at" in result.err
    assert not home.exists()
