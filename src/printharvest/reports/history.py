"""The complete print history (``printharvest export prints``) and the lot question.

Every print record ever harvested, failed and aborted ones included, with its case, its cost
and its material lots. Printer and material names are the lab's own rule words (as in the
report), never a job log's or a slicer profile's free text; case keys (which may hold patient
names: they come from folder names) are left out unless the lab asks for them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from printharvest.config import LedgerSettings
from printharvest.ledger.cost import print_cost
from printharvest.ledger.lots import lots_of
from printharvest.models import Material
from printharvest.registry.layout import Cell
from printharvest.registry.upload import FORMULA_START, xlsx_bytes
from printharvest.reports.facts import printer_label
from printharvest.rules.lab import Rules
from printharvest.store.ledger import PrintRow

COLUMNS: tuple[str, ...] = (
    "record", "case", "registry id", "printer", "technology", "model material",
    "support material", "lots", "used g", "used mL", "used mm", "estimate h", "duration h",
    "outcome", "started at", "finished at", "cost", "cost missing", "retired",
)
CASE_KEY_COLUMN = "case key"


@dataclass(frozen=True)
class HistoryRow:
    """One print of the history, as text and numbers ready for a file."""

    print_row: PrintRow
    cells: list[Cell]


def print_day(row: PrintRow) -> date:
    """The day a print counts for: when it started, else finished, else was harvested."""
    record = row.record
    for stamp in (record.started_at, record.finished_at, row.harvested_at):
        if stamp:
            try:
                return date.fromisoformat(stamp[:10])
            except ValueError:
                continue
    return date.fromisoformat(row.harvested_at[:10])


def history_rows(rows: Sequence[PrintRow], rules: Rules, settings: LedgerSettings, *,
                 period_from: date | None = None, period_to: date | None = None,
                 case_keys: bool = False) -> list[HistoryRow]:
    """The history's rows for prints whose day falls in the period (inclusive)."""
    result = []
    for row in rows:
        day = print_day(row)
        if (period_from and day < period_from) or (period_to and day > period_to):
            continue
        result.append(HistoryRow(row, _cells(row, rules, settings, case_keys)))
    return result


def header(case_keys: bool = False) -> list[str]:
    """The column names (with the case key after the registry id when asked for)."""
    columns = list(COLUMNS)
    if case_keys:
        columns.insert(3, CASE_KEY_COLUMN)
    return columns


def csv_text(rows: Sequence[HistoryRow], case_keys: bool = False) -> str:
    """The history as CSV (CRLF), text cells that a spreadsheet would run as formulas quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(case_keys))
    for row in rows:
        writer.writerow([_safe(c) for c in row.cells])
    return buffer.getvalue()


def xlsx_data(rows: Sequence[HistoryRow], case_keys: bool = False) -> bytes:
    """The history as one workbook of plain values (text never becomes a formula)."""
    return xlsx_bytes(header(case_keys), [r.cells for r in rows])


def _cells(row: PrintRow, rules: Rules, settings: LedgerSettings, case_keys: bool) -> list[Cell]:
    record = row.record
    cost = print_cost(record, rules).total
    model = [m for m in record.materials if m.role == "model"]
    support = [m for m in record.materials if m.role == "support"]
    cells: list[Cell] = [
        row.record_id, row.case_id, row.registry_id,
        printer_label(record, rules), record.technology,
        _material_words(model, rules), _material_words(support, rules),
        ", ".join(lots_of(record)) or None,
        _sum(m.used_g for m in record.materials), _sum(m.used_ml for m in record.materials),
        _sum(m.used_mm for m in record.materials),
        _hours(record.print_time_s), _hours(record.print_duration_s),
        record.outcome, record.started_at, record.finished_at,
        None if cost.amount is None else round(cost.amount, 2),
        "; ".join(cost.missing) or None,
        f"{row.retired_at}: {row.retired_reason}" if row.retired_at else None,
    ]
    if case_keys:
        cells.insert(3, row.case_key)
    return cells


def _material_words(materials: list[Material], rules: Rules) -> str | None:
    """Materials in the lab's rule words (as the report names them), never profile text."""
    names = []
    for material in materials:
        found = rules.material_label(material)
        names.append(found[0] if found else "not recognised by the material rules")
    return ", ".join(dict.fromkeys(names)) or None


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known), 3) if known else None


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _safe(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell
