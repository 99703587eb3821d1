"""Charts as inline SVG bar charts, drawn directly: no files, no internet needed to view, and
fast enough for the web page (a plotting library took most of the report's time)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from printharvest.reports.tables import Table

_COLOUR = "#2f6f8f"
_WIDTH = 560
_BAR = 18
_GAP = 6
_LABEL_W = 190


def render_chart(table: Table) -> str | None:
    """An SVG drawing of the table's label column against its value column, or None when
    there is nothing to draw."""
    if table.chart is None or not table.rows:
        return None
    labels = [str(row[0]) for row in table.rows]
    values = [_number(row[_value_column(table)]) for row in table.rows]
    if not any(values):
        return None
    top = max(values) or 1.0
    if table.chart == "barh":
        return _horizontal(table, labels, values, top)
    return _vertical(table, labels, values, top)


def _svg(table: Table, width: int, height: int, body: list[str]) -> str:
    title = f"{table.title} ({table.chart_axis})" if table.chart_axis else table.title
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label={quoteattr(title)}>'
            f"<title>{escape(title)}</title>"
            f'<g font-family="system-ui, sans-serif" font-size="12" fill="#1d2733">'
            + "".join(body) + "</g></svg>")


def _horizontal(table: Table, labels: list[str], values: list[float], top: float) -> str:
    span = _WIDTH - _LABEL_W - 70
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 8 + i * (_BAR + _GAP)
        length = span * value / top
        body.append(f'<text x="{_LABEL_W - 6}" y="{y + _BAR - 5}" text-anchor="end">'
                    f"{escape(_short(label, 28))}</text>"
                    f'<rect x="{_LABEL_W}" y="{y}" width="{length:.1f}" height="{_BAR}" '
                    f'fill="{_COLOUR}"/>'
                    f'<text x="{_LABEL_W + length + 4:.1f}" y="{y + _BAR - 5}">'
                    f"{_shown(value)}</text>")
    return _svg(table, _WIDTH, 16 + len(labels) * (_BAR + _GAP), body)


def _vertical(table: Table, labels: list[str], values: list[float], top: float) -> str:
    height, base = 220, 170
    slot = max(14.0, (_WIDTH - 40) / len(labels))
    width = int(40 + slot * len(labels))
    body = [f'<line x1="30" y1="{base}" x2="{width}" y2="{base}" stroke="#5b6b7a"/>']
    tilt = len(labels) > 6
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = 36 + i * slot
        bar = (base - 20) * value / top
        centre = x + slot * 0.4
        body.append(f'<rect x="{x:.1f}" y="{base - bar:.1f}" width="{slot * 0.8:.1f}" '
                    f'height="{bar:.1f}" fill="{_COLOUR}"/>')
        if value:
            body.append(f'<text x="{centre:.1f}" y="{base - bar - 3:.1f}" '
                        f'text-anchor="middle">{_shown(value)}</text>')
        anchor = (f'text-anchor="end" transform="rotate(-45 {centre:.1f} {base + 14})"'
                  if tilt else 'text-anchor="middle"')
        body.append(f'<text x="{centre:.1f}" y="{base + 14}" {anchor}>'
                    f"{escape(_short(label, 14))}</text>")
    return _svg(table, width, height, body)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _shown(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _value_column(table: Table) -> int:
    if table.chart_axis in table.columns:
        return table.columns.index(table.chart_axis)
    return 1


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
