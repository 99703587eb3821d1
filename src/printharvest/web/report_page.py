"""The lab report as a page of the web UI (``/report``) and as CSV (``/report.csv``)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from printharvest.app import App
from printharvest.exceptions import ValidationError
from printharvest.reports import build_report, render_csv, render_html
from printharvest.web.lab_filter import lab_where

# The report is one self-contained document: its styles and SVG charts are inline.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _day(request: Request, name: str) -> date | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, "expected a date as YYYY-MM-DD") from None


def report_response(app: App, request: Request, *, as_csv: bool) -> Response:
    """The report for ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (both optional), of the cases whose
    lab field holds a value when ``lab_field`` and ``lab_value`` are given (the report says
    only that it is filtered)."""
    where = lab_where(request.query_params, app.dictionary)
    built = build_report(app, _day(request, "from"), _day(request, "to"), where)
    if as_csv:
        return Response(render_csv(built), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="report.csv"'})
    return HTMLResponse(render_html(built, case_links=True),
                        headers={"Content-Security-Policy": REPORT_CSP})
