"""The watched inbox under load: bursts, slow writers, renames, duplicates, growing folders."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

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


def _slow_writer(path: Path, chunks: int, size: int, pause: float) -> threading.Thread:
    """Append a ticket to ``path`` in chunks, keeping the file open (a slow network copy)."""
    def run() -> None:
        body = ticket(424242, pad=chunks * size)
        step = len(body) // chunks + 1
        with path.open("wb") as fh:
            for start in range(0, len(body), step):
                fh.write(body[start:start + step])
                fh.flush()
                time.sleep(pause)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_bursts_renames_duplicates_and_slow_files_end_in_one_harvest_each(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    inbox = home / "inbox"
    staging = tmp_path / "staging"  # same filesystem: os.rename into the inbox
    staging.mkdir()
    dropped: dict[str, bytes] = {}  # relative path in the inbox -> content
    duplicates = 0

    def drop(rel: str, data: bytes, via_rename: bool = False) -> None:
        dropped[rel] = data
        if via_rename:
            temporary = write(staging / rel.replace("/", "_"), data)
            (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(temporary, inbox / rel)
        else:
            write(inbox / rel, data)

    with ServiceThread(home):
        slow = _slow_writer(inbox / "big.ticket", chunks=16, size=256_000, pause=0.06)
        dropped["big.ticket"] = ticket(424242, pad=16 * 256_000)
        n = 0
        for burst in range(10):
            seen = set(dropped)
            for _ in range(10):
                n += 1
                if n % 3 == 0:  # a job folder of two tickets
                    drop(f"JOB-{n}/a.ticket", ticket(n * 1000 + 1))
                    drop(f"JOB-{n}/b.ticket", ticket(n * 1000 + 2))
                elif n % 3 == 1:
                    drop(f"t{n}.ticket", ticket(n * 1000))
                else:
                    drop(f"r{n}.ticket", ticket(n * 1000), via_rename=True)
            # the same content again under another name, and again inside a folder
            drop(f"dup{burst}.ticket", dropped[min(dropped.keys() - seen)])
            duplicates += 1
            time.sleep(0.05)
        # rsync style: a hidden temporary file renamed to its real name when complete
        write(inbox / ".t999.ticket.Xa1", ticket(999_000))
        os.rename(inbox / ".t999.ticket.Xa1", inbox / "t999.ticket")
        dropped["t999.ticket"] = ticket(999_000)
        # a job folder that fills up over time, quicker than the settle time each step
        for k in range(5):
            drop(f"JOB-slow/part{k}.ticket", ticket(777_000 + k))
            time.sleep(0.12)
        slow.join()
        wait_for(lambda: not files_below(inbox) and open_rows(home) == 0, 60, "inbox to drain")
        # a file added to the same job folder later updates the same case
        drop("JOB-slow/late.ticket", ticket(777_999))
        wait_for(lambda: not files_below(inbox) and open_rows(home) == 0, 30, "the late file")

    archived = files_below(home / "archive")
    assert files_below(home / "quarantine") == []
    assert len(archived) == len(dropped)
    archived_content = sorted(p.read_bytes() for p in archived)
    assert archived_content == sorted(dropped.values())

    distinct = {hashlib.sha256(d).hexdigest() for d in dropped.values()}
    harvested = query(home, "SELECT sha256, COUNT(*) FROM watch_files WHERE outcome = 'harvested'"
                            " GROUP BY sha256")
    assert {row[0] for row in harvested} == distinct
    assert all(row[1] == 1 for row in harvested)
    dup_rows = query(home, "SELECT COUNT(*) FROM watch_files WHERE outcome = 'duplicate'")
    assert dup_rows[0][0] == duplicates
    records = query(home, "SELECT sha256 FROM records")
    assert sorted(r[0] for r in records) == sorted(distinct)
    states = query(home, "SELECT DISTINCT state FROM watch_files")
    assert states == [("archived",)]

    # job folders are one case each, whatever order their files arrived in
    per_case = dict(query(home, "SELECT c.case_key, COUNT(r.id) FROM cases c"
                                " JOIN records r ON r.case_id = c.id GROUP BY c.id"))
    assert per_case["JOB-slow"] == 6
    assert per_case["JOB-3"] == 2
    assert per_case["big"] == 1
    # the growing folder was taken as a whole: one job for the first five, one for the late file
    slow_jobs = query(home, "SELECT files FROM watch_jobs WHERE name = 'JOB-slow' ORDER BY id")
    assert slow_jobs == [(5,), (1,)]
