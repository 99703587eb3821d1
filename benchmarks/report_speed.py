"""How long `printharvest report` takes on the sample jobs plus 500 synthetic cases.

Baseline measured in the same run: reading every case back from the store (the floor any
report over all cases pays), both case by case (``CaseService.get`` per case, as the report
did before batch loading) and in one batch (``CaseService.list``, what the report uses).
Prints seconds and the ratios.

    uv run python benchmarks/report_speed.py
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from printharvest.app import App
from printharvest.reports import build_report, render_csv, render_html
from printharvest.testing.synthetic import fill_synthetic

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="printharvest-bench-"))
    try:
        app = App.open(root)
        inbox = root / "inbox"
        shutil.copytree(REPO / "sample_jobs" / "cases", inbox,
                        ignore=shutil.ignore_patterns("*.expected.json", "README*"))
        app.cases.ingest(app.harvester.harvest_paths([inbox]))
        started = time.perf_counter()
        fill_synthetic(app, 500)
        fill_s = time.perf_counter() - started

        started = time.perf_counter()
        one_by_one = [app.cases.get(row.id) for row in app.store.case_rows()]
        one_by_one_s = time.perf_counter() - started

        started = time.perf_counter()
        cases = app.cases.list()
        floor_s = time.perf_counter() - started
        assert [c.id for c in cases] == [c.id for c in one_by_one]

        started = time.perf_counter()
        report = build_report(app)
        html = render_html(report)
        render_csv(report)
        report_s = time.perf_counter() - started
        print(f"cases: {len(cases)} (synthetic fill took {fill_s:.2f} s)")
        print(f"read every case case by case: {one_by_one_s:.2f} s")
        print(f"baseline, read every case from the store in one batch: {floor_s:.2f} s "
              f"({one_by_one_s / floor_s:.1f}x faster than case by case)")
        print(f"report (numbers + HTML with {html.count('<svg')} charts + CSV): {report_s:.2f} s")
        print(f"ratio report / baseline: {report_s / floor_s:.1f}x")
        app.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
