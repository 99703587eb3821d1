"""Each poller against a local server that speaks its protocol, with faults injected.

A restart is a new App and PollerService on the same store: no job is lost or repeated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from printharvest.app import App
from printharvest.pollers.service import PollerService, PollReport
from printharvest.rules.shipped import shipped_rules
from printharvest.store.cursors import load_cursor
from tests.support.fake_printers import FakeHttp, FakeStratasys

TIMEOUT = 0.4
BACKOFF = 2.0


def make_home(home: Path, pollers: list[dict[str, Any]]) -> Path:
    """A home whose printers.yaml lists ``pollers`` and whose back-off is short."""
    rules = home / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load((shipped_rules() / "printers.yaml").read_text(encoding="utf-8"))
    data["pollers"] = pollers
    (rules / "printers.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (home / "printharvest.yaml").write_text(yaml.safe_dump({"pollers": {
        "backoff_initial_seconds": BACKOFF, "backoff_max_seconds": 60,
        "timeout_seconds": TIMEOUT}}), encoding="utf-8")
    return home


def poll_once(home: Path, now: float = 1000.0) -> list[PollReport]:
    """A fresh App and service (a restart), one forced round, closed again."""
    app = App.open(home)
    service = PollerService(app)
    try:
        return service.run_due(now, force=True)
    finally:
        service.close()
        app.close()


def stored(home: Path) -> list[dict[str, Any]]:
    """Every stored record body."""
    app = App.open(home)
    try:
        rows = app.store.conn.execute("SELECT body FROM records ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]
    finally:
        app.close()


def run_faults(home: Path, server: Any, faults: list[str]) -> None:
    """Each fault makes one poll fail with a one-line error and store nothing."""
    before = len(stored(home))
    for fault in faults:
        server.faults.append(fault)
        [report] = poll_once(home)
        assert report.error is not None and "\n" not in report.error, fault
        assert len(stored(home)) == before, fault


# -- Formlabs Web API -----------------------------------------------------------------------


def formlabs_run(n: int, status: str = "FINISHED") -> dict[str, Any]:
    return {"guid": f"run-{n}", "name": f"PATIENT_SECRET_{n}", "printer": "GrandPenguin",
            "machine_type_id": "FORM-4-0", "status": status, "material": "FLGPGR05",
            "layer_thickness_mm": 0.1, "volume_ml": 10.0 + n, "layer_count": 100,
            "print_started_at": f"2026-11-{10 + n:02d}T08:00:00Z",
            "print_finished_at": f"2026-11-{10 + n:02d}T12:00:00Z" if status != "PRINTING"
            else None, "estimated_duration_ms": 14_400_000, "elapsed_duration_ms": 14_500_000,
            "print_run_success": "SUCCESS", "parts": [{"name": "PATIENT_SECRET.stl"}]}


@pytest.fixture
def formlabs() -> Iterator[tuple[FakeHttp, list[dict[str, Any]]]]:
    runs: list[dict[str, Any]] = []

    def token(query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        form = dict(p.split("=", 1) for p in body.decode().split("&"))
        if form.get("grant_type") != "client_credentials" or form.get("client_secret") != "s3":
            return 401, {"error": "invalid_client"}
        return 200, {"access_token": "tok", "expires_in": 86400, "token_type": "Bearer"}

    def prints(query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if headers.get("Authorization") != "Bearer tok":
            return 401, {}
        since = query.get("date__gt")
        found = [r for r in runs if since is None or r["print_started_at"].replace(
            "Z", "+00:00") > since]
        found.sort(key=lambda r: r["print_started_at"], reverse=True)  # newest first
        page, per = int(query.get("page", 1)), int(query.get("per_page", 100))
        chunk = found[(page - 1) * per: page * per]
        more = page * per < len(found)
        return 200, {"count": len(found), "next": "next-page" if more else None,
                     "previous": None, "results": chunk}

    server = FakeHttp({("POST", "/developer/v1/o/token/"): token,
                       ("GET", "/developer/v1/prints/"): prints})
    yield server, runs
    server.close()


def test_formlabs_poller_recovers_from_every_fault(
    formlabs: tuple[FakeHttp, list[dict[str, Any]]], home: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    server, runs = formlabs
    monkeypatch.setenv("FL_SECRET", "s3")
    make_home(home, [{"id": "formlabs_web", "name": "form-cloud", "url": server.url,
                      "options": {"client_id": "lab", "per_page": 2},
                      "secrets": {"client_secret": "env:FL_SECRET"}}])
    runs.extend(formlabs_run(n) for n in (1, 2, 3))
    prints = "@/developer/v1/prints/"
    run_faults(home, server, ["500", "429", "malformed", "drop", "timeout"])  # at sign-in
    run_faults(home, server, [f + prints for f in ("500", "429", "malformed", "drop",
                                                    "timeout")])
    server.faults.extend(["pass" + prints, "drop" + prints])  # page 2 of 2 dropped:
    #                                                            nothing half-stored
    [report] = poll_once(home)
    assert report.error is not None and len(stored(home)) == 0
    [report] = poll_once(home)
    assert (report.error, report.new_records) == (None, 3)
    # a new run, one still printing; restart (new service) in between
    runs.extend([formlabs_run(4), formlabs_run(5, status="PRINTING")])
    assert poll_once(home)[0].new_records == 1
    runs[-1] = formlabs_run(5)  # it finished
    assert poll_once(home)[0].new_records == 1
    assert poll_once(home)[0].new_records == 0
    records = stored(home)
    assert sorted(r["source"]["path"] for r in records) == [
        f"poller://form-cloud/run-{n}" for n in range(1, 6)]
    assert all(r["technology"] == "vat_photopolymerization" for r in records)
    assert records[0]["materials"][0]["name"] == "Grey V5"
    assert records[0]["print_time_s"] == 14400 and records[0]["case_key"] == "form-cloud-run-1"
    # paging with per_page=2 was used, and no job or file name was stored anywhere
    assert any(q.get("page") == "2" for _, _, q in server.requests)
    dump = (home / "printharvest.db").read_bytes()
    assert b"PATIENT_SECRET" not in dump


def test_formlabs_429_retry_after_and_backoff(
    formlabs: tuple[FakeHttp, list[dict[str, Any]]], home: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    server, runs = formlabs
    monkeypatch.setenv("FL_SECRET", "s3")
    make_home(home, [{"id": "formlabs_web", "name": "form-cloud", "url": server.url,
                      "options": {"client_id": "lab"},
                      "secrets": {"client_secret": "env:FL_SECRET"}}])
    runs.append(formlabs_run(1))
    app = App.open(home)
    try:
        service = PollerService(app)
        server.retry_after = "30"
        server.faults.append("429")
        [report] = service.run_due(1000.0)
        assert report.error and "429" in report.error and report.next_due_at == 1030.0
        assert service.run_due(1010.0) == []  # not due yet: no request sent
        server.faults.extend(["500", "500"])
        assert service.run_due(1030.0)[0].next_due_at == 1030.0 + BACKOFF * 2
        assert service.run_due(1034.0)[0].next_due_at == 1034.0 + BACKOFF * 4
        assert load_cursor(app.store, "form-cloud").failures == 3
        [ok] = service.run_due(1042.0)
        assert ok.new_records == 1 and load_cursor(app.store, "form-cloud").failures == 0
    finally:
        service.close()
        app.close()


def test_wrong_secret_is_a_clear_error(
    formlabs: tuple[FakeHttp, list[dict[str, Any]]], home: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = formlabs
    monkeypatch.setenv("FL_SECRET", "wrong")
    make_home(home, [{"id": "formlabs_web", "name": "form-cloud", "url": server.url,
                      "options": {"client_id": "lab"},
                      "secrets": {"client_secret": "env:FL_SECRET"}}])
    [report] = poll_once(home)
    assert report.error is not None and "credentials" in report.error
    assert "wrong" not in report.error
    monkeypatch.delenv("FL_SECRET")
    [report] = poll_once(home)
    assert report.error is not None and "FL_SECRET is not set" in report.error


# -- Moonraker ------------------------------------------------------------------------------


def moon_job(n: int, status: str = "completed") -> dict[str, Any]:
    return {"job_id": f"{n:06X}", "exists": True, "user": "No User",
            "filename": f"PATIENT_SECRET_{n}.gcode", "status": status,
            "start_time": 1763500000.0 + n * 1000, "end_time": 1763500500.0 + n * 1000,
            "print_duration": 400.0, "total_duration": 500.0, "filament_used": 1234.5,
            "metadata": {"estimated_time": 480, "layer_height": 0.2, "filament_type": "PLA",
                         "slicer": "PrusaSlicer", "slicer_version": "2.8.1"},
            "auxiliary_data": [], "instance_id": "default"}


def test_moonraker_poller_recovers_and_never_repeats(home: Path) -> None:
    jobs: list[dict[str, Any]] = []

    def history(query: dict[str, str], headers: dict[str, str], body: bytes
                ) -> tuple[int, Any]:
        since = float(query.get("since", -1))
        found = sorted((j for j in jobs if j["start_time"] > since),
                       key=lambda j: j["job_id"], reverse=query.get("order") != "asc")
        start, limit = int(query.get("start", 0)), int(query.get("limit", 50))
        chunk = found[start:start + limit]
        return 200, {"result": {"count": len(chunk), "jobs": chunk}}

    server = FakeHttp({("GET", "/server/history/list"): history})
    try:
        make_home(home, [{"id": "moonraker", "name": "voron-1", "url": server.url,
                          "model": "Voron 2.4"}])
        jobs.extend([moon_job(1), moon_job(2, "cancelled"), moon_job(3, "in_progress")])
        run_faults(home, server, ["500", "malformed", "drop", "timeout", "429"])
        assert poll_once(home)[0].new_records == 2
        jobs[2] = moon_job(3)
        jobs.append(moon_job(4))
        assert poll_once(home)[0].new_records == 2
        assert poll_once(home)[0].new_records == 0
        records = stored(home)
        assert [r["outcome"] for r in records] == ["success", "aborted", "success", "success"]
        assert records[0]["printer"]["manufacturer"] == "Voron Design"
        assert records[0]["slicer"] == {"name": "PrusaSlicer", "version": "2.8.1"}
        assert b"PATIENT_SECRET" not in (home / "printharvest.db").read_bytes()
    finally:
        server.close()


# -- OctoPrint ------------------------------------------------------------------------------


def test_octoprint_poller_records_each_last_print_once(home: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files: list[dict[str, Any]] = []

    def listing(query: dict[str, str], headers: dict[str, str], body: bytes
                ) -> tuple[int, Any]:
        if headers.get("X-Api-Key") != "k3y":
            return 403, {}
        return 200, {"files": files, "free": 1, "total": 2}

    def gfile(n: int, date: float | None, success: bool = True) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": f"PATIENT_SECRET_{n}.gcode", "path": f"PATIENT_SECRET_{n}.gcode",
            "origin": "local", "type": "machinecode",
            "gcodeAnalysis": {"estimatedPrintTime": 3600.0,
                              "filament": {"tool0": {"length": 1000.0, "volume": 2.4}}}}
        if date is not None:
            entry["prints"] = {"success": 1, "failure": 0,
                               "last": {"date": date, "printTime": 3700.0, "success": success}}
        return entry

    server = FakeHttp({("GET", "/api/files"): listing})
    try:
        monkeypatch.setenv("OCTO_KEY", "k3y")
        make_home(home, [{"id": "octoprint", "name": "prusa-2", "url": server.url,
                          "model": "MK3S", "secrets": {"api_key": "env:OCTO_KEY"}}])
        files.extend([gfile(1, 1763500000.0), gfile(2, None),
                      {"name": "case", "type": "folder", "children": [gfile(3, 1763501000.0,
                                                                            False)]}])
        run_faults(home, server, ["drop", "500", "malformed", "429", "timeout"])
        assert poll_once(home)[0].new_records == 2
        files[1] = gfile(2, 1763502000.0)
        assert poll_once(home)[0].new_records == 1
        assert poll_once(home)[0].new_records == 0
        records = stored(home)
        assert [r["outcome"] for r in records] == ["success", "failed", "success"]
        assert records[0]["printer"]["manufacturer"] == "Prusa Research"
        assert b"PATIENT_SECRET" not in (home / "printharvest.db").read_bytes()
    finally:
        server.close()


# -- Stratasys ------------------------------------------------------------------------------

STATUS = """set machineStatus(general) {{
\tmodelerType waikiki
\tserialNumber F450-1
}}
set machineStatus(currentJob) {{
\tjobName {{PATIENT_SECRET current}}
\tjobStatus {current}
\tstartTime {cstart}
\testimatedBuildTime 7200
\tpartMatlName ABS-M30i
\tsupportMatlName SR-30
\tpartConsumed 2.0
\tsupportConsumed 1.0
\ttotalLayers 500
}}
set machineStatus(previousJob) {{
\tjobName {{PATIENT_SECRET previous}}
\tjobStatus completed
\tstartTime {pstart}
\testimatedBuildTime 3600
\tpartMatlName ABS-M30i
\tsupportMatlName SR-30
\tpartConsumed 1.0
\tsupportConsumed 0.5
\ttotalLayers 250
}}
"""


def test_stratasys_poller_over_tcp(home: Path) -> None:
    server = FakeStratasys(STATUS.format(current="building", cstart=1763600000,
                                         pstart=1763500000))
    try:
        make_home(home, [{"id": "stratasys_status", "name": "fortus-450",
                          "host": "127.0.0.1", "port": server.port}])
        run_faults(home, server, ["drop", "garbage", "cut", "timeout", "trickle"])
        assert poll_once(home)[0].new_records == 1  # previous job; current still building
        assert server.commands[-1] == ("GetFile", "status.sts")
        server.status = STATUS.format(current="completed", cstart=1763600000,
                                      pstart=1763500000)
        assert poll_once(home)[0].new_records == 1
        assert poll_once(home)[0].new_records == 0
        # the printer moved on: the finished job became previousJob, a new one is running
        server.status = STATUS.format(current="building", cstart=1763700000,
                                      pstart=1763600000)
        assert poll_once(home)[0].new_records == 0
        records = stored(home)
        assert len(records) == 2
        roles = [(m["name"], m["role"]) for m in records[0]["materials"]]
        assert roles == [("ABS-M30i", "model"), ("SR-30", "support")]
        assert records[0]["printer"]["model"] == "Fortus 450mc"
        assert b"PATIENT_SECRET" not in (home / "printharvest.db").read_bytes()
    finally:
        server.close()


def test_unreachable_printer_does_not_block_others(home: Path) -> None:
    server = FakeStratasys(STATUS.format(current="completed", cstart=1763600000,
                                         pstart=1763500000))
    try:
        make_home(home, [
            {"id": "stratasys_status", "name": "off", "host": "127.0.0.1", "port": 9},
            {"id": "stratasys_status", "name": "slow", "host": "127.0.0.1",
             "port": server.port},
            {"id": "stratasys_status", "name": "fine", "host": "127.0.0.1",
             "port": server.port}])
        server.faults.append("timeout")
        reports = poll_once(home)
        assert [r.printer for r in reports] == ["off", "slow", "fine"]
        assert reports[0].error is not None and "cannot connect" in reports[0].error
        # the stall went to whichever of the two connected first; the other was not held up
        outcomes = sorted((r.error is None, r.new_records) for r in reports[1:])
        assert outcomes == [(False, 0), (True, 2)]
    finally:
        server.close()


def test_records_and_cursor_commit_together(home: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    server = FakeStratasys(STATUS.format(current="completed", cstart=1763600000,
                                         pstart=1763500000))
    try:
        make_home(home, [{"id": "stratasys_status", "name": "fortus", "host": "127.0.0.1",
                          "port": server.port}])
        import printharvest.pollers.service as service_module

        def crash(*args: Any) -> None:
            raise RuntimeError("power cut")

        monkeypatch.setattr(service_module, "save_cursor", crash)
        with pytest.raises(RuntimeError):
            poll_once(home)
        assert stored(home) == []  # the records went with the cursor
        monkeypatch.undo()
        assert poll_once(home)[0].new_records == 2
    finally:
        server.close()


def test_a_hung_poll_is_given_up_and_not_started_twice(home: Path) -> None:
    import threading

    from printharvest.harvest.plugins import LoadedPoller
    from printharvest.pollers.base import PollBatch, PrinterPoller

    release = threading.Event()
    calls: list[str | None] = []

    class Hung(PrinterPoller):
        id = "hung"

        def poll(self, since: str | None) -> PollBatch:
            calls.append(since)
            release.wait(10)
            return PollBatch()

    make_home(home, [{"id": "hung", "name": "stuck", "url": "http://127.0.0.1:9",
                      "timeout_seconds": 0.1}])
    app = App.open(home)
    app.host.pollers["hung"] = LoadedPoller(Hung, "drop-in", "test")
    service = PollerService(app)
    try:
        [report] = service.run_due(1000.0)
        assert report.error is not None and "took longer" in report.error
        assert service.run_due(5000.0) == []  # still running: not started again
        assert len(calls) == 1
    finally:
        release.set()
        service.close()
        app.close()


@pytest.mark.slow
def test_kill_9_during_polling_loses_and_repeats_nothing(home: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    server = FakeStratasys(STATUS.format(current="completed", cstart=1763600000,
                                         pstart=1763500000))
    try:
        make_home(home, [{"id": "stratasys_status", "name": "fortus", "host": "127.0.0.1",
                          "port": server.port, "interval_seconds": 0.2}])
        proc = subprocess.Popen([sys.executable, "-m", "printharvest", "--home", str(home),
                                 "poll"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while len(server.commands) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)  # let it poll a few times, then kill it mid-loop
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            assert proc.stdout is not None
            proc.stdout.close()
        assert len(server.commands) >= 3
        [report] = poll_once(home)
        assert report.error is None and report.new_records == 0
        assert len(stored(home)) == 2
    finally:
        server.close()
