"""Inbox backlog: filing N small files found in the inbox at start, per-file cost vs 1,000.

Runs the real watch service (``watch --once``: real worker processes, real store) on a
throw-away home whose inbox holds N distinct small G-code files (a sample with a distinct
comment line each), and times the run from start until every file is filed. The baseline is
the same with 1,000 files, measured in the same run: a backlog that streams costs about the
same per file at any size (the target is a ratio near 1); one prepared whole, or whose
lookups scan the journal, costs more per file as N grows. Also printed: how long until the
first file was filed.

    uv run python benchmarks/inbox_backlog.py [--files 20000] [--baseline 1000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import yaml

from printharvest.app import App
from printharvest.watch.service import WatchService

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_jobs" / "formats" / "legacycura" / "block_filled.gcode"


def _first_filed(db: Path, started: float, done: threading.Event) -> list[float]:
    """Poll the store until a file has an outcome; the seconds since ``started``."""
    found: list[float] = []

    def poll() -> None:
        while not done.is_set():
            if db.exists():
                conn = sqlite3.connect(db, timeout=30)
                try:
                    row = conn.execute(
                        "SELECT 1 FROM watch_files WHERE outcome IS NOT NULL LIMIT 1").fetchone()
                except sqlite3.OperationalError:
                    row = None
                finally:
                    conn.close()
                if row:
                    found.append(time.monotonic() - started)
                    return
            time.sleep(0.05)

    threading.Thread(target=poll, daemon=True).start()
    return found


def file_backlog(files: int) -> tuple[float, float]:
    """Seconds to file ``files`` small files, and seconds until the first was filed."""
    body = SAMPLE.read_bytes()
    with tempfile.TemporaryDirectory(prefix="printharvest-bench-") as scratch:
        home = Path(scratch) / "home"
        inbox = home / "inbox"
        inbox.mkdir(parents=True)
        (home / "printharvest.yaml").write_text(
            yaml.safe_dump({"settle_seconds": 0.05, "entry_point_plugins": False}),
            encoding="utf-8")
        for n in range(files):
            (inbox / f"part{n:06d}.gcode").write_bytes(f"; backlog {n}\n".encode() + body)
        app = App.open(home)
        try:
            service = WatchService(app)
            done = threading.Event()
            started = time.monotonic()
            first = _first_filed(home / "printharvest.db", started, done)
            service.run(once=True)
            elapsed = time.monotonic() - started
            done.set()
            filed = app.store.conn.execute(
                "SELECT COUNT(*) FROM watch_files WHERE outcome IS NOT NULL").fetchone()[0]
        finally:
            app.close()
    if filed != files:
        raise SystemExit(f"only {filed} of {files} files were filed")
    return elapsed, first[0] if first else elapsed


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    args = parser.parse_args()
    base, base_first = file_backlog(args.baseline)
    big, big_first = file_backlog(args.files)
    per_base, per_big = base / args.baseline, big / args.files
    print(f"{args.baseline:>7,} files: {base:7.1f} s ({per_base * 1000:.1f} ms/file),"
          f" first filed after {base_first:.1f} s")
    print(f"{args.files:>7,} files: {big:7.1f} s ({per_big * 1000:.1f} ms/file),"
          f" first filed after {big_first:.1f} s")
    print(f"per-file cost ratio ({args.files:,} vs {args.baseline:,}): {per_big / per_base:.2f}")


if __name__ == "__main__":
    main()
