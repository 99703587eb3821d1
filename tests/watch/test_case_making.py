"""What becomes a case, through the real inbox service: print outcomes, one case per job of a
job history, the same imaging in two cases, files written in several steps, rules changed
while the service runs, re-harvest, and what `status` says about partly done jobs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from printharvest.app import App
from printharvest.reports.builder import build_report
from printharvest.rules.shipped import shipped_rules
from printharvest.watch.service import WatchService
from tests.support.cli import CliResult
from tests.support.paths import DEMO_CASES, SAMPLE_JOBS
from tests.support.watch import (
    ServiceThread,
    files_below,
    make_home,
    open_rows,
    query,
    ticket,
    wait_for,
    write,
)

pytestmark = pytest.mark.slow  # harvest workers are subprocesses

FORMATS = SAMPLE_JOBS / "formats"
KIDNEY = DEMO_CASES / "3DP-2026-001_kidney"
MANDIBLE = DEMO_CASES / "3DP-2026-002_mandible"
HISTORY_FILES = {
    "grabcad-print-report.csv": FORMATS / "joblog-csv" / "grabcad-print-report.csv",
    "octoprint-printjobhistory.csv": FORMATS / "joblog-csv" / "octoprint-printjobhistory.csv",
    "status.sts": FORMATS / "stratasys" / "status.sts",
    "prints_page.json": FORMATS / "formlabs" / "prints_page.json",
}


def _once(home: Path) -> int:
    app = App.open(home)
    try:
        return WatchService(app).run(once=True).quarantined
    finally:
        app.close()


def network_copy(source: bytes, target: Path, chunks: int, pause: float) -> None:
    """Write ``target`` the way a network copy (or a tool that appends) does: open, append a
    chunk, close, pause, again."""
    target.parent.mkdir(parents=True, exist_ok=True)
    step = -(-len(source) // chunks)
    for start in range(0, len(source), step):
        with target.open("ab") as handle:
            handle.write(source[start:start + step])
        time.sleep(pause)


def _printer_gcode(model: str) -> bytes:
    """The kidney G-code (sliced by PrusaSlicer) as if sliced for another printer."""
    text = (KIDNEY / "kidney_tumour.gcode").read_bytes()
    text = text.replace(b"; printer_model = MK4S", f"; printer_model = {model}".encode())
    return text.replace(b"; printer_settings_id = Original Prusa MK4S 0.4 nozzle",
                        f"; printer_settings_id = {model}".encode())


# -- print outcomes and one case per job ---------------------------------------------------


def test_job_histories_are_one_case_per_job_and_failed_prints_are_not_registry_prints(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    home = make_home(tmp_path / "home")
    for name, source in HISTORY_FILES.items():
        shutil.copyfile(source, home / "inbox" / name)
    assert _once(home) == 0
    app = App.open(home)
    try:
        cases = app.cases.list()
        keys = {c.case_key for c in cases}
        # never named after the file that held the jobs
        assert not keys & {"grabcad-print-report", "octoprint-printjobhistory", "status",
                           "prints_page"}
        by_record = {(r.source.connector, Path(r.source.path).name, r.source.index): c
                     for c in cases for r in c.records}
        jobs_per_file: dict[str, set[int]] = {}
        for (_, name, _), case in by_record.items():
            jobs_per_file.setdefault(name, set()).add(case.id)
        assert all(len(ids) > 1 for ids in jobs_per_file.values()), jobs_per_file
        # heart_demo: a J750 job in the GrabCAD report, a failed TPU job in OctoPrint's history
        grabcad_heart = by_record[("joblog", "grabcad-print-report.csv", 1)]
        octo_heart = by_record[("joblog", "octoprint-printjobhistory.csv", 2)]
        assert grabcad_heart.id != octo_heart.id
        assert len(octo_heart.records) == 1 and octo_heart.records[0].outcome == "failed"
        # a failed print is kept and shown, but is not a registry print
        assert "prints.1.technology" not in octo_heart.fields
        shown = octo_heart.fields["prints.not_counted"].value
        assert [p["outcome"] for p in shown] == ["failed"]
        # the aborted Stratasys job as well; its completed sibling is a registry print
        aborted = by_record[("stratasys_status", "status.sts", 0)]
        completed = by_record[("stratasys_status", "status.sts", 1)]
        assert aborted.id != completed.id
        assert aborted.fields["prints.not_counted"].value[0]["outcome"] == "aborted"
        assert completed.fields["prints.1.outcome"].value == "success"
        assert "prints.not_counted" not in completed.fields
    finally:
        app.close()

    # cases show names the outcome; the data manager can count the failed print
    out = run_cli("--home", str(home), "cases", "show", str(octo_heart.id)).out
    assert "prints.not_counted" in out and "failed" in out
    record_id = shown[0]["record"]
    result = run_cli("--home", str(home), "cases", "count-print", str(octo_heart.id),
                     str(record_id))
    assert result.code == 0, result.err
    app = App.open(home)
    try:
        case = app.cases.get(octo_heart.id)
        assert case.fields["prints.1.outcome"].value == "failed"
        assert "counted by the data manager" in (case.fields["prints.1.outcome"].provenance.rule
                                                 or "")
        assert "prints.not_counted" not in case.fields
        assert any(e["field"] == "prints.counted_records" for e in app.cases.audit(case.id))
        # the report counts failures apart, per printer and per material
        report = build_report(app)
        per_material = report.table("per_material")
        failed = dict(zip(per_material.column("material"),
                          per_material.column("failed or aborted"), strict=True))
        assert sum(failed.values()) >= 4  # canceled PETG, failed TPU, aborted ABS, Formlabs
        rates = per_material.column("failure rate")
        assert any(r not in ("0%", "n/a") for r in rates)
        assert "failure rate" in report.table("per_printer").columns
    finally:
        app.close()


# -- the same imaging in two cases ------------------------------------------------------------


def test_the_same_imaging_in_two_jobs_is_harvested_once_and_linked_to_both(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    home = make_home(tmp_path / "home")
    inbox = home / "inbox"
    shutil.copytree(KIDNEY, inbox / "3DP-2026-001_kidney")
    assert _once(home) == 0
    # a guide for the same patient, later, from the same series
    guide = inbox / "3DP-2026-003_guide"
    shutil.copytree(KIDNEY / "dicom", guide / "dicom")
    shutil.copyfile(MANDIBLE / "mandible_guide.stl", guide / "kidney_guide.stl")
    assert _once(home) == 0
    # and a multi-study zip that a first job carried, then another job again
    for job in ("3DP-2026-004_atlas", "3DP-2026-005_atlas_reprint"):
        folder = inbox / job
        folder.mkdir()
        with zipfile.ZipFile(folder / "studies.zip", "w") as archive:
            for case in (KIDNEY, MANDIBLE):
                for path in sorted((case / "dicom").rglob("*")):
                    if path.is_file():
                        archive.write(path, f"{case.name[-6:]}/{path.relative_to(case)}")
        assert _once(home) == 0
    app = App.open(home)
    try:
        cases = {c.case_key: c for c in app.cases.list()}
        first, second = cases["3DP-2026-001"], cases["3DP-2026-003"]
        imaging = [r for r in second.records if r.kind == "imaging"]
        assert len(imaging) == 1
        assert imaging[0].source.sha256 == next(
            r.source.sha256 for r in first.records if r.kind == "imaging")
        for field in ("imaging.modalities", "imaging.patient_age", "imaging.patient_sex",
                      "imaging.study_count"):
            assert second.fields[field].value == first.fields[field].value
        assert second.fields["model.object_type"].value == "anatomic_guide"
        # harvested once: one imaging record in the store for that series
        assert query(home, "SELECT COUNT(*) FROM records WHERE kind = 'imaging'"
                           " AND sha256 = ?", (imaging[0].source.sha256,))[0][0] == 1
        # the zip: harvested in the first atlas job, linked to the second
        atlas, again = cases["3DP-2026-004"], cases["3DP-2026-005"]
        assert atlas.fields["imaging.study_count"].value == 2
        assert again.fields["imaging.study_count"].value == 2
        assert [r.source.sha256 for r in again.records] == [
            r.source.sha256 for r in atlas.records]
        # DICOM provenance follows the files into archive/
        for job_case in cases.values():
            for record in job_case.records:
                assert "/archive/" in record.source.path, record.source.path
                assert Path(record.source.path.split("!/")[0]).exists(), record.source.path
        assert files_below(inbox) == []
        assert files_below(home / "quarantine") == []
    finally:
        app.close()
    # status: the duplicates name the case their content belongs to
    out = run_cli("--home", str(home), "status", "--limit", "50").out
    assert f"same content as in case {first.id}" in out


# -- files written in several steps ----------------------------------------------------------


def test_a_gcode_copied_in_several_steps_is_taken_whole(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", settle_seconds=1.0)
    data = (KIDNEY / "kidney_tumour.gcode").read_bytes()
    with ServiceThread(home):
        time.sleep(0.3)
        # six chunks, each closed, with pauses shorter than the settle time
        network_copy(data, home / "inbox" / "3DP-2026-010_copy" / "kidney.gcode", 6, 0.4)
        wait_for(lambda: not files_below(home / "inbox") and open_rows(home) == 0, 60,
                 "the copied file to be taken")
    assert files_below(home / "quarantine") == []
    archived = files_below(home / "archive")
    assert [p.read_bytes() for p in archived] == [data]
    rows = query(home, "SELECT body FROM records")
    assert len(rows) == 1
    record = json.loads(str(rows[0][0]))
    assert record["printer"] is not None and record["materials"]
    assert record["print_time_s"] is not None
    assert record["warnings"] == []


def test_a_file_missing_its_end_is_waited_for_then_harvested_with_a_warning(
        tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", settle_seconds=0.3,
                     watch={"incomplete_wait_seconds": 2.0})
    data = (KIDNEY / "kidney_tumour.gcode").read_bytes()
    cut = data[: len(data) * 2 // 3]  # the statistics block at the end never came
    with ServiceThread(home):
        time.sleep(0.3)
        write(home / "inbox" / "cut.gcode", cut)
        time.sleep(1.2)  # settled, but its end is missing: still waited for
        assert (home / "inbox" / "cut.gcode").exists()
        wait_for(lambda: not files_below(home / "inbox") and open_rows(home) == 0, 30,
                 "the cut file to be harvested after the bounded wait")
    record = json.loads(str(query(home, "SELECT body FROM records")[0][0]))
    assert record["warnings"], "a cut G-code is harvested with a warning"


def test_a_gcode_that_grows_after_its_harvest_updates_its_record(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", archive_mode="keep")
    data = (KIDNEY / "kidney_tumour.gcode").read_bytes()
    target = home / "inbox" / "3DP-2026-011_grow" / "kidney.gcode"
    write(target, data[: len(data) // 2])
    assert _once(home) == 0
    time.sleep(0.01)
    with target.open("ab") as handle:  # the rest arrives later
        handle.write(data[len(data) // 2:])
    assert _once(home) == 0
    rows = query(home, "SELECT sha256, body FROM records")
    assert len(rows) == 1  # updated, no fragment beside it
    record = json.loads(str(rows[0][1]))
    assert record["source"]["size"] == len(data)
    assert record["print_time_s"] is not None
    audit = [r[0] for r in query(home, "SELECT action FROM audit")]
    assert "record updated" in audit


# -- rules that change, and re-harvest --------------------------------------------------------


def _add_to_library(home: Path, label: str, model: str) -> None:
    rules = home / "rules"
    rules.mkdir(exist_ok=True)
    data = yaml.safe_load((shipped_rules() / "printers.yaml").read_text(encoding="utf-8"))
    data["library"].append({"label": label, "manufacturer": "Tronxy", "model": model,
                            "technology": "material_extrusion"})
    tmp = rules / ".printers.yaml.tmp"
    tmp.write_text(yaml.safe_dump(data), encoding="utf-8")
    os.replace(tmp, rules / "printers.yaml")


def test_rules_edited_while_the_service_runs_apply_and_reharvest_updates_old_cases(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    home = make_home(tmp_path / "home")
    with ServiceThread(home) as running:
        write(home / "inbox" / "3DP-2026-020_x5sa" / "part.gcode", _printer_gcode("X5SA"))
        wait_for(lambda: open_rows(home) == 0 and not files_below(home / "inbox"), 60,
                 "the first job")
        first = running.service.app.cases.get(1)
        unknown = first.fields["prints.1.printer_unknown"].value
        assert "X5SA" in unknown and "rules/printers.yaml" in unknown
        assert "prints.1.printer_label" not in first.fields
        # the data manager types a value before the rules change
        running.service.app.cases.set_values(1, {"prints.1.scale": 50}, "dm")
        # a printer added to the library reaches the running service
        _add_to_library(home, "Tronxy X5SA (bench 2)", "X5SA")
        wait_for(lambda: any(e.label == "Tronxy X5SA (bench 2)"
                             for e in running.service.app.rules.printers.library), 20,
                 "the service to reload its rules")
        write(home / "inbox" / "3DP-2026-021_x5sa" / "part.gcode",
              _printer_gcode("X5SA") + b"; second job\n")
        wait_for(lambda: open_rows(home) == 0 and not files_below(home / "inbox")
                 and len(query(home, "SELECT id FROM cases")) == 2, 60, "the second job")
        second = running.service.app.cases.get(2)
        assert second.fields["prints.1.printer_label"].value == "Tronxy X5SA (bench 2)"
    # the archived original of the first case, read again with today's rules
    result = run_cli("--home", str(home), "reharvest", "1")
    assert result.code == 0, result.err
    assert "prints.1.printer_label" in result.out
    app = App.open(home)
    try:
        case = app.cases.get(1)
        assert case.fields["prints.1.printer_label"].value == "Tronxy X5SA (bench 2)"
        assert "printers.yaml#library" in (case.fields["prints.1.printer_label"].provenance.rule
                                           or "")
        assert "prints.1.printer_unknown" not in case.fields
        assert case.fields["prints.1.scale"].value == 50  # typed: kept
        audit = app.cases.audit(1)
        assert any(e["action"] == "reharvest" and e["field"] == "prints.1.printer_label"
                   for e in audit)
        assert len(case.records) == 1
    finally:
        app.close()
    # an ingest of the archived file says it is known; reharvest --all runs clean
    assert run_cli("--home", str(home), "reharvest", "--all").code == 0
    assert run_cli("--home", str(home), "reharvest").code == 2


def test_sighup_reloads_and_a_broken_rules_edit_keeps_the_service_going(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "printharvest", "--home", str(home),
                             "watch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    log = home / "logs" / "printharvest.log"

    def logged(text: str) -> bool:
        return log.exists() and text in log.read_text(encoding="utf-8", errors="replace")

    try:
        wait_for(lambda: logged("watching"), 60, "the service to start")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: logged("rules and configuration reloaded (SIGHUP)"), 20,
                 "the SIGHUP reload")
        (home / "rules").mkdir(exist_ok=True)
        (home / "rules" / "printers.yaml").write_text("library: [unclosed\n", encoding="utf-8")
        wait_for(lambda: logged("rules not reloaded"), 20, "the broken edit to be refused")
        write(home / "inbox" / "still.ticket", ticket(7))
        wait_for(lambda: open_rows(home) == 0 and not files_below(home / "inbox"), 60,
                 "the service to go on")
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(files_below(home / "archive")) == 1


# -- status ---------------------------------------------------------------------------------------


def test_status_says_partly_done_names_renamed_quarantine_files(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    home = make_home(tmp_path / "home")
    write(home / "quarantine" / "JOB-9" / "bad.ticket", b"an earlier bad file")
    write(home / "inbox" / "JOB-9" / "good.ticket", ticket(1))
    write(home / "inbox" / "JOB-9" / "bad.ticket", b'{"test-ticket": 5, "pad": ')
    assert _once(home) == 1
    out = run_cli("--home", str(home), "status").out
    assert "partly done" in out
    assert "quarantined JOB-9/bad.ticket" in out
    assert "bad-1.ticket" in out  # where it is now: the name in quarantine changed
    assert (home / "quarantine" / "JOB-9" / "bad-1.ticket").exists()
    data = json.loads(run_cli("--home", str(home), "status", "--json").out)
    assert data["jobs"][0]["state"] == "partly done"
    assert data["errors"][0]["moved_to"].endswith("bad-1.ticket")


def test_the_same_print_file_in_another_job_is_a_duplicate_not_a_second_print(
        tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    gcode = (KIDNEY / "kidney_tumour.gcode").read_bytes()
    write(home / "inbox" / "3DP-2026-030_a" / "kidney.gcode", gcode)
    assert _once(home) == 0
    write(home / "inbox" / "3DP-2026-031_b" / "kidney.gcode", gcode)
    assert _once(home) == 0
    # a print is one job of one case: no link, no second case holding the same print
    assert [r[0] for r in query(home, "SELECT case_key FROM cases")] == ["3DP-2026-030"]
    assert query(home, "SELECT COUNT(*) FROM record_links")[0][0] == 0
    reasons = [r[0] for r in query(home, "SELECT reason FROM watch_files"
                                         " WHERE outcome = 'duplicate'")]
    assert reasons == ["same content as in case 1"]
