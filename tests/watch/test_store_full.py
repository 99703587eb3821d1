"""The store itself cannot write (a full disk under it): ``watch`` pauses, keeps every job
in the inbox, and carries on once the store has room again.

SQLite's ``PRAGMA max_page_count`` on the service's own connection makes it answer exactly
as on a full disk ("database or disk is full", SQLITE_FULL); everything else is real.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.watch import service
from printharvest.watch.service import WatchService
from tests.support.cli import CliResult
from tests.support.watch import (
    ServiceThread,
    files_below,
    make_home,
    query,
    ticket,
    wait_for,
    write,
)

Run = Callable[..., CliResult]
LONG = "x" * 200  # long names: each job's journal rows need room


def _count(home: Path, sql: str) -> int:
    return int(query(home, sql)[0][0])


def test_a_store_that_cannot_write_pauses_watch_and_nothing_is_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        run_cli: Run) -> None:
    monkeypatch.setattr(service, "RECOVER_SECONDS", 0.3)  # retries come fast in the test
    monkeypatch.setattr(service, "BEAT_SECONDS", 0.2)  # the heartbeat hits it too
    home = make_home(tmp_path / "home")
    inbox = (home / "inbox").resolve()
    write(inbox / "first.ticket", ticket(0))
    jobs = 8
    with caplog.at_level(logging.INFO, logger="printharvest"), ServiceThread(home) as thread:
        wait_for(lambda: _count(home, "SELECT COUNT(*) FROM records") == 1, 30, "first job")
        conn = thread.app.store.conn
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from now on
        for n in range(1, jobs + 1):
            write(inbox / f"job{n}-{LONG}" / f"part-{LONG}.ticket", ticket(n, pad=50_000))
        wait_for(lambda: (home / service.PAUSED_NAME).is_file(), 30, "the pause")
        time.sleep(2.0)  # several retries, heartbeats and rescans while full
        assert thread.thread.is_alive() and thread.error is None
        line = (home / service.PAUSED_NAME).read_text(encoding="utf-8").strip()
        assert line == f"paused: the store cannot write (disk full) at {thread.app.store.path}"
        status = run_cli("--home", str(home), "status")
        assert line in status.out
        waiting = files_below(inbox)
        assert waiting  # held in the inbox, untouched
        assert all(p.read_bytes() == ticket(int(p.parent.name[3:].split("-")[0]), pad=50_000)
                   for p in waiting)
        assert files_below(home / "quarantine") == []
        conn.execute("PRAGMA max_page_count = 1073741823")  # space returns
        wait_for(lambda: files_below(inbox) == [], 60, "every job harvested")
        wait_for(lambda: not (home / service.PAUSED_NAME).exists(), 10, "the pause lifted")
        wait_for(lambda: _count(home, "SELECT COUNT(*) FROM watch_jobs WHERE state = 'running'")
                 == 0, 10, "no job left running")
    assert len(files_below(home / "archive")) == jobs + 1
    assert files_below(home / "quarantine") == []
    assert _count(home, "SELECT COUNT(*) FROM records") == jobs + 1
    assert _count(home, "SELECT COUNT(DISTINCT sha256) FROM records") == jobs + 1
    assert query(home, "SELECT DISTINCT state FROM watch_files") == [("archived",)]
    assert _count(home, "SELECT MAX(attempts) FROM watch_files") == 1  # the pause cost none
    assert _count(home, "SELECT COUNT(*) FROM watch_jobs WHERE state != 'done'") == 0
    said = [r.getMessage() for r in caplog.records]
    assert sum("paused: the store cannot write" in m for m in said) == 1, said
    assert any(m.startswith("resumed:") for m in said)
    assert not any("periodic task" in m for m in said)  # the heartbeat said nothing of it


def test_a_big_job_the_journal_cannot_take_is_taken_whole_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Journalling the job's files fills the store part way through: the rows written so far
    # are given back, and the job is taken again, whole, once there is room.
    monkeypatch.setattr(service, "RECOVER_SECONDS", 0.3)
    home = make_home(tmp_path / "home")
    inbox = (home / "inbox").resolve()
    write(inbox / "first.ticket", ticket(0))
    files = 60
    with ServiceThread(home) as thread:
        wait_for(lambda: _count(home, "SELECT COUNT(*) FROM records") == 1, 30, "first job")
        conn = thread.app.store.conn
        conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        for n in range(1, files + 1):
            write(inbox / "big" / f"{n:03d}-{LONG}.ticket", ticket(n))
        wait_for(lambda: (home / service.PAUSED_NAME).is_file(), 30, "the pause")
        time.sleep(1.0)
        assert len(files_below(inbox)) == files
        conn.execute("PRAGMA max_page_count = 1073741823")
        wait_for(lambda: files_below(inbox) == [], 60, "the job harvested")
        wait_for(lambda: not (home / service.PAUSED_NAME).exists(), 10, "the pause lifted")
    assert _count(home, "SELECT COUNT(*) FROM records") == files + 1
    assert query(home, "SELECT DISTINCT state FROM watch_files") == [("archived",)]
    assert _count(home, "SELECT COUNT(*) FROM watch_files") == files + 1  # one row per file
    assert _count(home, "SELECT MAX(attempts) FROM watch_files") == 1
    assert query(home, "SELECT state, files FROM watch_jobs ORDER BY id") == [("done", 1),
                                                                             ("done", files)]


def test_watch_once_on_a_store_that_cannot_write_ends_and_the_next_run_takes_all(
        tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    inbox = (home / "inbox").resolve()
    write(inbox / "first.ticket", ticket(0))
    jobs = 10
    app = App.open(home)
    try:
        WatchService(app).run(once=True)
        conn = app.store.conn
        conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        for n in range(1, jobs + 1):
            write(inbox / f"job{n}-{LONG}" / f"part-{LONG}.ticket", ticket(n))
        started = time.monotonic()
        WatchService(app).run(once=True)  # ends, paused, instead of stopping on the error
        assert time.monotonic() - started < 30
        assert files_below(inbox)  # held in the inbox
        assert files_below(home / "quarantine") == []
        # the dropped jobs were given back at the stop: nothing running, no attempt counted
        assert _count(home, "SELECT COUNT(*) FROM watch_jobs WHERE state != 'done'") == 0
        assert _count(home, "SELECT COALESCE(MAX(attempts), 0) FROM watch_files"
                      " WHERE state = 'seen'") == 0
        conn.execute("PRAGMA max_page_count = 1073741823")
        WatchService(app).run(once=True)
    finally:
        app.close()
    assert files_below(inbox) == []
    assert _count(home, "SELECT COUNT(*) FROM records") == jobs + 1
    assert query(home, "SELECT DISTINCT state FROM watch_files") == [("archived",)]
    assert _count(home, "SELECT MAX(attempts) FROM watch_files") == 1
    assert _count(home, "SELECT COUNT(*) FROM watch_jobs WHERE state != 'done'") == 0
