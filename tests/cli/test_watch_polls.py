"""The watch service says what its printer pollers found: failures and new jobs."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from rich.console import Console

from printharvest.app import App
from printharvest.cli.watch_cmd import said_polls
from printharvest.pollers.service import PollerService
from tests.pollers.test_pollers import STATUS, make_home
from tests.support.fake_printers import FakeStratasys


def test_watch_says_a_failed_printer_and_new_jobs(
        home: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = FakeStratasys(STATUS.format(current="completed", cstart=1763600000,
                                         pstart=1763500000))
    make_home(home, [
        {"id": "stratasys_status", "name": "off", "host": "127.0.0.1", "port": 9},
        {"id": "stratasys_status", "name": "fine", "host": "127.0.0.1", "port": server.port}])
    app = App.open(home)
    pollers = PollerService(app)
    out = io.StringIO()
    try:
        task = said_polls(pollers.run_due, Console(file=out, width=200))
        with caplog.at_level(logging.INFO, logger="printharvest.watch"):
            task(1000.0)
            task(1000.5)  # nothing due: nothing said
    finally:
        pollers.close()
        app.close()
        server.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("off (stratasys_status): failed: ") and "cannot connect" in lines[0]
    assert lines[1] == "fine (stratasys_status): 2 new job(s), 0 already known"
    logged = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert logged == [(logging.WARNING, lines[0]), (logging.INFO, lines[1])]
