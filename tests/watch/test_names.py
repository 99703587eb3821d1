"""File names under abuse: bytes that are not UTF-8, terminal escapes and newlines, links,
through the real watch service and through ``ingest``."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from printharvest.harvest.names import SafeFormatter, shown
from printharvest.watch import scan
from printharvest.watch.display import setup_logging
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
BAD = b"caf\xe9_\x1b[2J\x1b]0;owned\x07_line\nbreak.ticket"


def test_shown_escapes_bytes_controls_and_bidi() -> None:
    name = os.fsdecode(BAD)
    text = shown(name)
    assert text == "caf\\xe9_\\x1b[2J\\x1b]0;owned\\x07_line\\x0abreak.ticket"
    assert text.isprintable() and "\n" not in text
    assert shown("report\u202egpj.exe") == "report\\u202egpj.exe"
    assert shown("plain name.stl") == "plain name.stl"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", (name,), None)
    assert "\n" not in SafeFormatter("%(message)s").format(record)


def said_bad(home: Path) -> int:
    log = home / "logs" / "printharvest.log"
    return log.read_text("utf-8").count("not valid UTF-8") if log.exists() else 0


def test_watch_survives_names_that_are_not_utf8_and_says_so_once(
        tmp_path: Path, run_cli: Run) -> None:
    home = make_home(tmp_path / "home", watch={"rescan_seconds": 0.5})
    inbox = home / "inbox"
    bad_loose = os.path.join(os.fsencode(inbox), BAD)
    with open(bad_loose, "wb") as fh:
        fh.write(ticket(1))
    os.mkdir(os.path.join(os.fsencode(inbox), b"job-\xff"))
    write(inbox / "good-job" / "a.ticket", ticket(2))
    with open(os.path.join(os.fsencode(inbox / "good-job"), b"b-\xfe.ticket"), "wb") as fh:
        fh.write(ticket(3))
    escaped = "evil\x1b[31m\nname.ticket"
    write(inbox / escaped, ticket(4))

    handler = setup_logging(home / "logs", 1 << 20, 1)
    try:
        for run in range(2):  # at start, and at every restart: no crash
            with ServiceThread(home):
                wait_for(lambda: len(query(home, "SELECT id FROM records")) == 2, 30,
                         "the good files harvested")
                def enough(said: int = 3 * (run + 1)) -> bool:
                    return said_bad(home) >= said

                wait_for(enough, 30, "the names said")
                time.sleep(1.0)  # more looks and a rescan: nothing said twice
    finally:
        logging.getLogger("printharvest").removeHandler(handler)
        handler.close()
    assert len(query(home, "SELECT id FROM records")) == 2
    assert os.path.exists(bad_loose)  # left in place, never destroyed
    log = (home / "logs" / "printharvest.log").read_bytes()
    said = log.decode("utf-8").splitlines()
    bad = [t for t in said if "not valid UTF-8" in t]
    assert len(bad) == 2 * 3, said  # each bad name once per run, not at every look
    assert b"\x1b" not in log and b"evil\\x1b[31m\\x0aname.ticket" in log
    assert [p for p in files_below(home / "archive") if p.name.startswith("evil")]
    status = run_cli("--home", str(home), "status")
    assert status.code == 0 and "\x1b" not in status.out


def test_links_are_refused_by_ingest_and_reported_by_watch(tmp_path: Path,
                                                           run_cli: Run) -> None:
    outside = tmp_path / "outside"
    write(outside / "secret.ticket", ticket(9))
    home = make_home(tmp_path / "home")
    job = tmp_path / "drop" / "job"
    write(job / "real.ticket", ticket(8))
    (job / "link.ticket").symlink_to(outside / "secret.ticket")
    (job / "linked-folder").symlink_to(outside, target_is_directory=True)
    result = run_cli("--home", str(home), "ingest", str(tmp_path / "drop"))
    assert result.code == 1
    refused = [line for line in result.err.splitlines() if "symbolic link" in line]
    assert len(refused) == 2, result.err
    assert len(query(home, "SELECT id FROM records")) == 1

    inbox = home / "inbox"
    (inbox / "loose-link.ticket").symlink_to(outside / "secret.ticket")
    write(inbox / "job2" / "ok.ticket", ticket(7))
    (inbox / "job2" / "inner-link.ticket").symlink_to(outside / "secret.ticket")
    said: list[str] = []
    with ServiceThread(home):
        scan.NOTICES.said.clear()
        scan.NOTICES.callback = said.append
        wait_for(lambda: len(query(home, "SELECT id FROM records")) == 2, 30, "job2 harvested")
    links = [t for t in said if "symbolic link" in t]
    assert len(links) == 2, said
    assert (outside / "secret.ticket").exists() and (inbox / "loose-link.ticket").is_symlink()


@pytest.fixture(autouse=True)
def _fresh_notices() -> None:
    scan.NOTICES.said.clear()
