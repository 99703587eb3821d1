"""An empty or damaged store is refused in one line, untouched, by every command and serve;
the home, the store, the logs and the exports are owner-only."""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from printharvest.config import Home
from printharvest.watch.display import setup_logging
from tests.support.cli import CliResult
from tests.support.paths import DEMO_CASES
from tests.support.registry import harvested_home, make_ready
from tests.support.webserver import free_port

Run = Callable[..., CliResult]

COMMANDS: list[tuple[str, ...]] = [
    ("cases", "list"), ("cases", "show", "1"), ("status",), ("export", "--format", "psv"),
    ("report",), ("submissions",), ("watch", "--once"), ("ingest", str(DEMO_CASES)),
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("content", [b"", b"\x00garbage, not a database" * 400],
                         ids=["empty", "garbage"])
def test_an_unusable_store_is_refused_untouched(home: Path, run_cli: Run,
                                                content: bytes) -> None:
    store = Home.open(home).store_path
    store.write_bytes(content)
    for command in [*COMMANDS, ("serve", "--port", str(free_port()))]:
        result = run_cli("--home", str(home), *command)
        assert result.code != 0, command
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and "left it untouched" in lines[0], (command, result.err)
        assert "Traceback" not in result.err
        assert store.read_bytes() == content, command
    assert not Path(str(store) + "-wal").exists()


def test_serve_refuses_a_store_damaged_inside(home: Path, run_cli: Run,
                                              sample_jobs_copy: Path) -> None:
    assert run_cli("--home", str(home), "ingest", str(sample_jobs_copy)).code == 0
    store = Home.open(home).store_path
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(store.read_bytes())
    assert len(data) > 3 * 4096
    data[2 * 4096: 3 * 4096] = b"\xff" * 4096  # a table's page in the middle
    store.write_bytes(bytes(data))
    listing = run_cli("--home", str(home), "cases", "list")
    assert listing.code == 1 and "damaged" in listing.err and "Traceback" not in listing.err
    result = run_cli("--home", str(home), "serve", "--port", str(free_port()))
    assert result.code != 0 and "damaged" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert store.read_bytes() == bytes(data)


def test_home_store_logs_and_exports_are_owner_only(tmp_path: Path, run_cli: Run,
                                                    sample_jobs_copy: Path) -> None:
    home = tmp_path / "fresh-home"
    assert run_cli("--home", str(home), "ingest", str(sample_jobs_copy)).code == 0
    assert mode(home) == 0o700
    store = Home.open(home).store_path
    assert mode(store) == 0o600
    for extra in (Path(str(store) + "-wal"), Path(str(store) + "-shm")):
        if extra.exists():
            assert mode(extra) == 0o600
    app = harvested_home(home)
    make_ready(app)
    app.close()
    assert run_cli("--home", str(home), "export", "--format", "psv").code == 0
    exported = [p for p in (home / "exports").rglob("*") if p.is_file()]
    assert exported and all(mode(p) == 0o600 for p in exported)

    handler = setup_logging(home / "logs", max_bytes=200, backups=2)
    try:
        logger = logging.getLogger("printharvest.test")
        for number in range(10):  # past a rollover: the new files are private too
            logger.warning("line %d of the log, long enough to roll over", number)
    finally:
        logging.getLogger("printharvest").removeHandler(handler)
        handler.close()
    logs = list((home / "logs").iterdir())
    assert len(logs) >= 2 and all(mode(p) == 0o600 for p in logs)
