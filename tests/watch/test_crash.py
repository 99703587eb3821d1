"""Real processes, real kill -9: nothing lost, nothing harvested twice, hostile files contained."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.watch.service import WatchService
from tests.support.watch import files_below, make_home, open_rows, query, ticket, wait_for, write

pytestmark = pytest.mark.skipif(os.name != "posix", reason="kill -9 is a POSIX signal")


def _start(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "printharvest", "--home", str(home),
                             "watch", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _settled(home: Path) -> int:
    try:
        return int(query(home, "SELECT COUNT(*) FROM watch_files WHERE state = 'archived'")
                   [0][0])
    except sqlite3.OperationalError:  # the store is not there (or not migrated) yet
        return 0


def _workers_of(home: Path) -> list[int]:
    """Worker processes still running for this home (none may outlive a killed service)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"printharvest.watch.worker" in cmdline and str(home).encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_kill_9_at_any_moment_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    inbox = home / "inbox"
    dropped: dict[str, bytes] = {}

    def drop_batch(start: int, count: int) -> None:
        for n in range(start, start + count):
            if n % 4 == 0:
                for part in ("a", "b"):
                    rel = f"JOB-{n}/{part}.ticket"
                    dropped[rel] = write(inbox / rel, ticket(n * 10 + ord(part))).read_bytes()
            elif n % 7 == 0:  # same content as an earlier job
                rel = f"copy{n}.ticket"
                dropped[rel] = write(inbox / rel, ticket((n - 1) * 10)).read_bytes()
            else:
                rel = f"t{n}.ticket"
                dropped[rel] = write(inbox / rel, ticket(n * 10)).read_bytes()

    drop_batch(1, 40)
    for kills, target in enumerate((3, 12, 25), start=1):
        service = _start(home)
        wait_for(lambda t=target: _settled(home) >= t,  # type: ignore[misc]
                 60, f"{target} files archived")
        service.send_signal(signal.SIGKILL)
        service.wait()
        drop_batch(100 * kills, 8)
    # a kill before the service got anywhere, and one while the workers start
    for delay in (0.05, 0.6):
        service = _start(home)
        time.sleep(delay)
        service.send_signal(signal.SIGKILL)
        service.wait()
    wait_for(lambda: not _workers_of(home), 10, "orphaned workers to exit")

    done = subprocess.run([sys.executable, "-m", "printharvest", "--home", str(home), "watch",
                           "--once"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    assert files_below(inbox) == []
    assert open_rows(home) == 0
    assert files_below(home / "quarantine") == []
    archived = files_below(home / "archive")
    assert sorted(p.read_bytes() for p in archived) == sorted(dropped.values())
    distinct = {hashlib.sha256(d).hexdigest() for d in dropped.values()}
    harvested = query(home, "SELECT sha256, COUNT(*) FROM watch_files"
                            " WHERE outcome = 'harvested' GROUP BY sha256")
    assert {row[0] for row in harvested} == distinct
    assert all(count == 1 for _, count in harvested)
    records = [r[0] for r in query(home, "SELECT sha256 FROM records")]
    assert sorted(records) == sorted(distinct)
    status = subprocess.run([sys.executable, "-m", "printharvest", "--home", str(home),
                             "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 0
    assert "queue: 0 file(s)" in status.stdout
    assert "service: not running" in status.stdout


def test_hostile_files_are_quarantined_by_time_limit_without_stopping_the_service(
        tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", harvest_timeout_seconds=1.5)
    inbox = home / "inbox"
    write(inbox / "hang.hostile", b"HOSTILE HANG")
    write(inbox / "exit.hostile", b"HOSTILE EXIT")
    write(inbox / "bug.hostile", b"HOSTILE RAISE")
    write(inbox / "hog.hostile", b"HOSTILE MEM")
    write(inbox / "good.ticket", ticket(1))
    write(inbox / "JOB-mixed" / "hang.hostile", b"HOSTILE HANG again")
    write(inbox / "JOB-mixed" / "fine.ticket", ticket(2))
    app = App.open(home)
    try:
        stats = WatchService(app).run(once=True)
    finally:
        app.close()
    assert stats.quarantined == 5
    quarantine = home / "quarantine"
    reasons = {p.relative_to(quarantine).as_posix(): p.with_name(p.name + ".reason.txt")
               .read_text().strip() for p in files_below(quarantine)}
    assert "longer than 1.5 s" in reasons["hang.hostile"]
    assert "longer than 1.5 s" in reasons["JOB-mixed/hang.hostile"]
    assert "died (exit code 7)" in reasons["exit.hostile"]
    assert "connector test-hostile failed (RuntimeError)" in reasons["bug.hostile"]
    assert "too large to read" in reasons["hog.hostile"]  # the worker's memory limit
    assert len(reasons) == 5
    archived = {p.name for p in files_below(home / "archive")}
    assert archived == {"good.ticket", "fine.ticket"}
    assert files_below(inbox) == []
    per_case = dict(query(home, "SELECT c.case_key, COUNT(r.id) FROM cases c"
                                " JOIN records r ON r.case_id = c.id GROUP BY c.id"))
    assert per_case == {"good": 1, "JOB-mixed": 1}
