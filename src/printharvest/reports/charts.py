"""Charts as inline SVG (matplotlib, Agg backend): no files, no internet needed to view."""

from __future__ import annotations

import io
import re
from typing import Any

from printharvest.reports.tables import Table

_WIDTH_IN = 6.4
_COLOUR = "#2f6f8f"
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def render_chart(table: Table) -> str | None:
    """An SVG drawing of the table's first two columns, or None when there is nothing to draw."""
    if table.chart is None or not table.rows:
        return None
    labels = [str(row[0]) for row in table.rows]
    values = [_number(row[_value_column(table)]) for row in table.rows]
    if not any(values):
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    horizontal = table.chart == "barh"
    height = max(2.2, 0.32 * len(labels) + 1.0) if horizontal else 3.0
    fig, ax = plt.subplots(figsize=(_WIDTH_IN, height))
    try:
        if horizontal:
            positions = range(len(labels))[::-1]
            ax.barh(list(positions), values, color=_COLOUR)
            ax.set_yticks(list(positions), labels)
            ax.set_xlabel(table.chart_axis)
            ax.set_ylabel(table.columns[0])
        else:
            ax.bar(range(len(labels)), values, color=_COLOUR)
            ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 6 else 0,
                          ha="right" if len(labels) > 6 else "center")
            ax.set_ylabel(table.chart_axis)
            ax.set_xlabel(table.columns[0])
        ax.set_title(table.title)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
    finally:
        plt.close(fig)
    svg = buffer.getvalue()
    # The RDF metadata block carries a timestamp and nothing a reader needs.
    return _METADATA.sub("", svg[svg.index("<svg"):])


def _value_column(table: Table) -> int:
    if table.chart_axis in table.columns:
        return table.columns.index(table.chart_axis)
    return 1


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
