"""Inbox latency: from a file becoming complete in the inbox to its case being updated.

Runs the real watch service (native observer, real worker processes) on a throw-away home
and drops distinct copies of a sample mesh (its 80-byte STL header differs) two ways:

* renamed into the inbox when complete (a copy tool's last step): the service has only the
  settle time to go on, so the baseline is the settle time and the target settle + 1 s;
* written in place and closed: closed is not complete (a network copy closes and reopens
  a file between chunks), so this too is taken once unchanged for the settle time.

Latency is measured from the moment the file is complete (rename done / file closed) until
a record with the file's sha256 is in the store, i.e. its case was created or updated.

    uv run python benchmarks/inbox_latency.py [--settle 2.0] [--drops 8]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

import yaml

from printharvest.app import App
from printharvest.watch.service import WatchService

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_jobs" / "cases" / "3DP-2026-002_mandible" / "mandible_guide.stl"


def _variant(body: bytes, label: str) -> bytes:
    return label.encode().ljust(80, b" ")[:80] + body[80:]


def _wait_record(db: Path, sha: str, timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(db, timeout=10)
            try:
                if conn.execute("SELECT 1 FROM records WHERE sha256 = ?", (sha,)).fetchone():
                    return time.monotonic()
            finally:
                conn.close()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"no record for {sha[:12]} after {timeout:.0f} s")


def run(settle: float, drops: int) -> None:
    """Measure and print."""
    body = SAMPLE.read_bytes()
    with tempfile.TemporaryDirectory(prefix="printharvest-bench-") as scratch:
        home = Path(scratch) / "home"
        (home / "inbox").mkdir(parents=True)
        staging = Path(scratch) / "staging"
        staging.mkdir()
        (home / "printharvest.yaml").write_text(
            yaml.safe_dump({"settle_seconds": settle, "entry_point_plugins": False}),
            encoding="utf-8")
        app = App.open(home)
        service = WatchService(app)
        thread = threading.Thread(target=service.run, daemon=True)
        thread.start()
        db = home / "printharvest.db"
        # warm up: the first job waits for the workers to start
        warm = _variant(body, "warm-up")
        (home / "inbox" / "warm.stl").write_bytes(warm)
        _wait_record(db, hashlib.sha256(warm).hexdigest(), timeout=120)

        results: dict[str, list[float]] = {"renamed into the inbox": [], "written in place": []}
        for i in range(drops):
            data = _variant(body, f"benchmark rename {i}")
            staged = staging / f"r{i}.stl"
            staged.write_bytes(data)
            os.replace(staged, home / "inbox" / f"r{i}.stl")
            complete = time.monotonic()
            done = _wait_record(db, hashlib.sha256(data).hexdigest())
            results["renamed into the inbox"].append(done - complete)

            data = _variant(body, f"benchmark in place {i}")
            with (home / "inbox" / f"w{i}.stl").open("wb") as fh:
                fh.write(data)
            complete = time.monotonic()
            done = _wait_record(db, hashlib.sha256(data).hexdigest())
            results["written in place"].append(done - complete)

        service.stop()
        thread.join(timeout=30)
        app.close()

    print(f"inbox latency, file complete -> case updated ({drops} drops each, "
          f"{SAMPLE.name}, {SAMPLE.stat().st_size} bytes)")
    print(f"baseline: settle time {settle:.2f} s; target: settle + 1 s = {settle + 1:.2f} s")
    for label, values in results.items():
        median = statistics.median(values)
        worst = max(values)
        print(f"  {label:24s} median {median:6.3f} s  max {worst:6.3f} s  "
              f"median/settle {median / settle:5.2f}x  "
              f"{'within' if worst <= settle + 1 else 'OVER'} target")


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=2.0, help="settle time in seconds")
    parser.add_argument("--drops", type=int, default=8, help="files per mode")
    args = parser.parse_args()
    run(args.settle, args.drops)


if __name__ == "__main__":
    main()
