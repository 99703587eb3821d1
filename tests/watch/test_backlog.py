"""A backlog of thousands of small files streams: the first is filed before all are prepared."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from printharvest.watch.service import PROGRESS_EVERY
from tests.support.watch import ServiceThread, make_home, query, ticket, write

FILES = 2500


def _counts(home: Path) -> tuple[int, int]:
    """(files journalled, files filed with an outcome)."""
    try:
        [(rows, filed)] = query(home, "SELECT COUNT(*), COUNT(outcome) FROM watch_files")
    except Exception:  # the store is being created
        return 0, 0
    return int(rows), int(filed)


@pytest.mark.slow
def test_a_backlog_streams_and_reports_progress(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = make_home(tmp_path / "home", settle_seconds=0.05)
    inbox = home / "inbox"
    for n in range(FILES):
        write(inbox / f"t{n:05d}.ticket", ticket(n))
    caplog.set_level(logging.INFO, logger="printharvest.watch")
    journalled_at_first = -1
    with ServiceThread(home):
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            rows, filed = _counts(home)
            if filed and journalled_at_first < 0:
                journalled_at_first = rows
            if filed == FILES:
                break
            time.sleep(0.02)
    assert _counts(home) == (FILES, FILES)
    # Before streaming, every file was hashed and journalled before the first was dispatched.
    assert 0 < journalled_at_first < FILES // 2
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress")]
    assert len(progress) == FILES // PROGRESS_EVERY
    assert progress[0].startswith(f"progress: {PROGRESS_EVERY} file(s) taken")
