"""A store that cannot write (SQLITE_FULL) says so as one typed error, and keeps working.

SQLite's ``PRAGMA max_page_count`` makes it answer exactly as on a full disk ("database or
disk is full", SQLITE_FULL), on a real store file.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from printharvest.exceptions import StoreError, StoreFullError
from printharvest.store import Store, core


def _cap(store: Store, pages: int | None = None) -> None:
    """Cap the store at ``pages`` (its current size when None)."""
    if pages is None:
        pages = int(store.conn.execute("PRAGMA page_count").fetchone()[0])
    store.conn.execute(f"PRAGMA max_page_count = {pages}")


def _grow(store: Store) -> None:
    """A write that needs new pages (an audit entry of 200 KiB)."""
    with store.transaction():
        store.log(None, "test", "grow", None, None, "x" * (200 << 10))


def test_a_full_store_raises_store_full_and_keeps_nothing_of_the_write(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ph.db") as store:
        before = store.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        _cap(store)
        with pytest.raises(StoreFullError) as caught:
            _grow(store)
        assert isinstance(caught.value, StoreError)
        assert caught.value.path == str(tmp_path / "ph.db")
        assert "the store cannot write (disk full" in str(caught.value)
        assert str(tmp_path) not in caught.value.public_message
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert not store.conn.in_transaction  # rolled back, the connection usable
        assert store.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == before
        with pytest.raises(StoreFullError):
            store.probe_room()
        _cap(store, 1 << 30)  # room again: the same write goes through
        store.probe_room()
        _grow(store)
        assert store.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == before + 1
        tables = [r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")]
        assert "printharvest_room_probe" not in tables  # the probe keeps nothing


def test_other_sqlite_errors_are_not_store_full(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ph.db") as store:
        with pytest.raises(sqlite3.OperationalError), store.transaction():
            store.conn.execute("INSERT INTO no_such_table VALUES (1)")
        assert not store.conn.in_transaction


def _io_error() -> sqlite3.OperationalError:
    """What SQLite raises when the WAL cannot be written (SQLITE_IOERR_WRITE)."""
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorcode = sqlite3.SQLITE_IOERR | (3 << 8)  # type: ignore[misc]
    return exc


@pytest.mark.parametrize("free", [4096, 50 << 30], ids=["disk-full", "disk-has-room"])
def test_a_disk_io_error_is_store_full_only_on_a_full_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    # A full disk under the WAL surfaces as "disk I/O error"; the disk's own free space
    # (which the test cannot fill for real) tells it from other I/O faults.
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: SimpleNamespace(free=free))
    with Store.open(tmp_path / "ph.db") as store:
        expected = StoreFullError if free < core.LOW_SPACE_BYTES else sqlite3.OperationalError
        with pytest.raises(expected), store.transaction():
            raise _io_error()
        assert not store.conn.in_transaction


def _full_error() -> sqlite3.OperationalError:
    """What SQLite raises when the disk has no room (SQLITE_FULL)."""
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[misc]
    return exc


@pytest.mark.parametrize("error", [_full_error, _io_error], ids=["full", "io-error"])
def test_a_store_opened_on_a_full_disk_is_full_not_damaged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        error: Callable[[], sqlite3.OperationalError]) -> None:
    # A store is created (or its WAL index made) at opening: on a full disk that fails. The
    # lab must read "disk full", never "damaged: restore it from a backup" (a good store).
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: SimpleNamespace(free=4096))

    def no_room(_path: Path) -> None:
        raise error()

    monkeypatch.setattr(core, "_create", no_room)
    with pytest.raises(StoreFullError) as caught:
        Store.open(tmp_path / "ph.db")
    assert "damaged" not in str(caught.value)
    assert not (tmp_path / "ph.db").exists()
