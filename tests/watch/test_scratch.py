"""Scratch of killed workers (extracted zip members) is removed on start and after each kill."""

from __future__ import annotations

import zipfile
from pathlib import Path

from printharvest.app import App
from printharvest.watch.service import WatchService
from printharvest.watch.worker import scratch_root
from tests.support.watch import make_home, write


def test_scratch_of_killed_workers_is_cleaned(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", harvest_timeout_seconds=1.5)
    stale = write(scratch_root(home) / "from-a-killed-run" / "tmpx" / "member.bin", b"x" * 4096)
    bundle = home / "inbox" / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:  # extracted into scratch, then it hangs
        archive.writestr("inner/hang.hostile", b"HOSTILE HANG " + b"y" * 100_000)
    app = App.open(home)
    try:
        stats = WatchService(app).run(once=True)
    finally:
        app.close()
    assert stats.quarantined == 1
    assert not stale.exists()
    left = [p for p in scratch_root(home).rglob("*") if p.is_file()]
    assert left == [], left
