"""Big files in the inbox: hashed once, in a thread, while the loop files other jobs."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from printharvest.connectors.probe import WINDOW, probe_file
from printharvest.watch.scan import sha256_of
from tests.support.watch import ServiceThread, make_home, query, ticket, wait_for, write


def _sparse(path: Path, size: int, head: bytes) -> Path:
    """A sparse file of ``size`` bytes starting with ``head`` and ending with ``TAIL``."""
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
        fh.seek(size - 4)
        fh.write(b"TAIL")
    return path


def test_a_known_hash_is_not_computed_again_while_the_file_is_unchanged(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "big.bin", 300 << 20, b"HEAD")
    st = big.stat()
    known = (st.st_size, st.st_mtime_ns, "a" * 64)  # not the real hash: proves reuse
    started = time.monotonic()
    probe = probe_file(big, known=known)
    assert time.monotonic() - started < 2  # 2 MiB read, not 300 MiB
    assert probe.sha256 == "a" * 64
    assert probe.size == 300 << 20
    assert probe.head.startswith(b"HEAD") and len(probe.head) == WINDOW
    assert probe.tail.endswith(b"TAIL") and len(probe.tail) == WINDOW
    # Another mtime: the file changed after it was hashed, so it is read and hashed again.
    small = write(tmp_path / "small.bin", b"0123456789")
    st = small.stat()
    probe = probe_file(small, known=(st.st_size, st.st_mtime_ns + 1, "a" * 64))
    assert probe.sha256 == hashlib.sha256(b"0123456789").hexdigest()
    assert probe.head == probe.tail == b"0123456789"


@pytest.mark.slow
def test_a_big_file_is_hashed_once_off_the_loop_while_small_jobs_are_filed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home(tmp_path / "home")
    inbox = home / "inbox"
    gate = threading.Event()
    calls: list[str] = []
    real = sha256_of

    def gated(path: Path) -> str:
        calls.append(path.name)
        if path.name == "big.ticket":
            assert gate.wait(60), "the test never opened the gate"
        return real(path)

    monkeypatch.setattr("printharvest.watch.job_runner.sha256_of", gated)
    _sparse(inbox / "big.ticket", 200 << 20, b"BIG")  # what becomes of it does not matter

    def state(name: str) -> str | None:
        rows = query(home, "SELECT outcome FROM watch_files WHERE rel_path = ?", (name,))
        return rows[0][0] if rows else None

    with ServiceThread(home):
        wait_for(lambda: "big.ticket" in calls, 30, "the big file being hashed")
        # While the big file is hashed (held at the gate), the loop files small jobs.
        for n in range(3):
            write(inbox / f"small{n}.ticket", ticket(100 + n))
        wait_for(lambda: all(state(f"small{n}.ticket") == "harvested" for n in range(3)),
                 60, "the small files filed while the big one is hashed")
        assert state("big.ticket") is None  # still being hashed: not journalled yet
        gate.set()
        wait_for(lambda: state("big.ticket") is not None, 120, "the big file filed")
    assert calls.count("big.ticket") == 1
    [(sha,)] = query(home, "SELECT sha256 FROM watch_files WHERE rel_path = 'big.ticket'")
    expected = hashlib.sha256()
    expected.update(b"BIG")
    expected.update(bytes((200 << 20) - 3 - 4))
    expected.update(b"TAIL")
    assert sha == expected.hexdigest()
