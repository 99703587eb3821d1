"""Render a Report as one self-contained HTML file (inline SVG charts) or as CSV."""

from __future__ import annotations

import csv
import io

import jinja2
from markupsafe import Markup

from printharvest.registry.upload import formula_safe
from printharvest.reports.builder import Report
from printharvest.reports.charts import render_chart

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("printharvest.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


def render_html(report: Report, *, charts: bool = True, case_links: bool = False) -> str:
    """The report as a single HTML document that needs no network to view or print;
    ``case_links`` (the web page) links case numbers back to their case pages."""
    drawings = {t.key: render_chart(t) for t in report.tables()} if charts else {}
    return _ENV.get_template("report.html.j2").render(
        report=report, case_links=case_links, charts={k: Markup(v)
                               for k, v in drawings.items() if v})


def render_csv(report: Report) -> str:
    """Every table as long-format CSV: table, row label, column, value (CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["table", "title", "row", "column", "value"])
    for table in report.tables():
        for row in table.rows:
            for column, value in zip(table.columns[1:], row[1:], strict=True):
                writer.writerow([_cell(c) for c in
                                 (table.key, table.title, row[0], column, value)])
    return buffer.getvalue()


def _cell(value: object) -> object:
    """Text cells cannot start a formula when the CSV is opened in a spreadsheet (the same
    rule as the upload file); numbers stay numbers."""
    return formula_safe(value) if isinstance(value, str) else value
