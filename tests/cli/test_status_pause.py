"""``status`` names a store-full pause even when the service could not write its pause line."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from printharvest.app import App
from printharvest.cli.status_cmd import watch_problems
from printharvest.store.journal import Journal
from printharvest.watch.service import PAUSED_NAME


@pytest.mark.parametrize("free", [0, 50 << 30], ids=["disk-full", "disk-has-room"])
def test_a_pause_line_the_full_disk_kept_empty(
        home: Path, monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    # The home is on the store's disk: on a full one the service's pause file is made but
    # stays empty (its text has no room), which showed as a blank line in status.
    app = App.open(home)
    try:
        (home / PAUSED_NAME).touch()
        monkeypatch.setattr(shutil, "disk_usage", lambda _path: SimpleNamespace(free=free))
        lines = watch_problems(home, Journal(app.store), True, app.home.store_path)
    finally:
        app.close()
    expected = ([f"paused: the store cannot write (disk full) at {app.home.store_path}"]
                if free == 0 else [])
    assert lines == expected
