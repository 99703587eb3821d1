"""Helpers for the watch tests: a home with test connectors, job files, and waiting."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from printharvest.app import App
from printharvest.watch.service import WatchService

TEST_CONNECTORS = '''
"""Test connectors: a slow but honest ticket reader, and a hostile one."""
import json
import os
import time

from printharvest import CorruptFileError, FileConnector


class SlowTicket(FileConnector):
    id = "test-ticket"
    label = "Test: ticket"
    version = "1"
    patterns = ("*.ticket",)

    def detect(self, probe):
        return 0.95 if probe.head.startswith(b'{"test-ticket"') else 0.0

    def harvest(self, probe):
        time.sleep(0.02)  # widen the window a kill -9 can fall into
        try:
            data = json.loads(probe.read_all(64 << 20))
        except ValueError as exc:
            raise CorruptFileError(probe.display_path, "ticket is not complete JSON") from exc
        return [self.new_record(probe, "print", print_time_s=int(data["test-ticket"]))]


class Hostile(FileConnector):
    id = "test-hostile"
    label = "Test: hostile"
    version = "1"
    patterns = ("*.hostile",)

    def detect(self, probe):
        return 1.0 if probe.head.startswith(b"HOSTILE") else 0.0

    def harvest(self, probe):
        if b"HANG" in probe.head:
            time.sleep(3600)
        if b"EXIT" in probe.head:
            os._exit(7)
        if b"MEM" in probe.head:
            hog = bytearray(12 << 30)  # far past the worker's memory limit
            return [] if hog else []
        if b"RAISE" in probe.head:
            raise RuntimeError("connector bug")
        return []


CONNECTORS = [SlowTicket, Hostile]
'''


def make_home(root: Path, **config: object) -> Path:
    """A home with the test connectors and a short settle time."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "connectors").mkdir(exist_ok=True)
    (root / "connectors" / "test_connectors.py").write_text(TEST_CONNECTORS, encoding="utf-8")
    settings: dict[str, object] = {"settle_seconds": 0.3, "entry_point_plugins": False,
                                   "harvest_timeout_seconds": 20}
    settings.update(config)
    # A cut-short file in a test is meant to be cut short: wait for its end only briefly.
    watch = dict(settings.get("watch") or {})  # type: ignore[call-overload]
    watch.setdefault("incomplete_wait_seconds", 1.0)
    settings["watch"] = watch
    (root / "printharvest.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (root / "inbox").mkdir(exist_ok=True)
    return root


def ticket(n: int, pad: int = 0) -> bytes:
    """The bytes of a ticket with distinct content ``n``."""
    return json.dumps({"test-ticket": n, "pad": "x" * pad}).encode()


def write(path: Path, data: bytes) -> Path:
    """Write a file (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it holds, or fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def files_below(folder: Path) -> list[Path]:
    """Regular files below ``folder``, reason files excluded."""
    found: list[Path] = []
    # os.walk ignores folders that vanish while it looks (the service prunes empty ones).
    for parent, _dirs, names in os.walk(folder):
        found.extend(Path(parent) / n for n in names if not n.endswith(".reason.txt"))
    return sorted(found)


def query(home: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the store with a separate connection (the service may be running)."""
    if not (home / "printharvest.db").exists():
        # connecting would create an empty file, which the service refuses as a store
        raise sqlite3.OperationalError("no store yet")
    conn = sqlite3.connect(home / "printharvest.db", timeout=30)
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def open_rows(home: Path) -> int:
    """How many journal rows are still in the service's hands."""
    if not (home / "printharvest.db").exists():
        return -1
    try:
        return int(query(home, "SELECT COUNT(*) FROM watch_files WHERE state IN"
                               " ('seen','harvesting','harvested','archiving','quarantining')")
                   [0][0])
    except sqlite3.OperationalError:
        return -1


class ServiceThread:
    """A WatchService running in a background thread of the test process."""

    def __init__(self, home: Path) -> None:
        self.app = App.open(home)
        self.service = WatchService(self.app)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.service.run()
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> ServiceThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.service.stop()
        self.thread.join(timeout=30)
        self.app.close()
        assert self.error is None, self.error
