"""``watch --once`` takes a batch in the order found, so cases are numbered in inbox order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.watch.scan import sha256_of
from printharvest.watch.service import WatchService
from tests.support.watch import make_home, query, ticket, write


def test_once_takes_jobs_in_inbox_order_while_the_first_is_still_being_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three workers, so three hashing threads: the first job's hash is the last to finish.
    home = make_home(tmp_path / "home", settle_seconds=0.05, watch={"workers": 3})
    inbox = home / "inbox"
    for n, name in enumerate(("a_first", "b_second", "c_third")):
        write(inbox / name / "job.ticket", ticket(n))
    later_hashed = threading.Event()
    real = sha256_of

    def slow_first(path: Path) -> str:
        # The first job's hash ends only after a later job's hash is done: without the
        # order rule, the later job would be taken, and numbered, first.
        if path.parent.name == "a_first":
            later_hashed.wait(10)
            time.sleep(0.5)  # several loop passes see the later jobs ready before this one
        elif path.parent.name == "c_third":
            later_hashed.set()
        return real(path)

    monkeypatch.setattr("printharvest.watch.job_runner.sha256_of", slow_first)
    app = App.open(home)
    try:
        WatchService(app).run(once=True)
    finally:
        app.close()
    assert later_hashed.is_set()
    # Jobs are journalled when taken: their ids are the order they were taken in.
    jobs = [name for (name,) in query(home, "SELECT name FROM watch_jobs ORDER BY id")]
    assert jobs == ["a_first", "b_second", "c_third"]


def test_a_reload_keeps_the_worker_count_the_run_was_started_with(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", watch={"workers": 3})
    app = App.open(home)
    try:
        service = WatchService(app, workers=1)
        assert service.pool.size == 1
        assert service.reload("test")
        assert service.pool.size == 1
        plain = WatchService(app)
        (home / "printharvest.yaml").write_text(
            (home / "printharvest.yaml").read_text(encoding="utf-8").replace(
                "workers: 3", "workers: 2"), encoding="utf-8")
        assert plain.pool.size == 3
        assert plain.reload("test")
        assert plain.pool.size == 2  # a lab's edit of watch.workers applies on reload
    finally:
        app.close()
