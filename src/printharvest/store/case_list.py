"""The case list's query: filter, sort and page cases in SQL, so that a list of thousands
of cases reads only the one page it shows.

A field's effective value is the typed one when there is one, else the harvested one (the
rule :meth:`printharvest.store.core.Store.field_values` applies case by case).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from printharvest.store.core import Store

SORTS = {"id": "c.id", "case": "c.case_key", "status": "c.status", "created": "c.created_at",
         "updated": "c.updated_at"}
"""Columns the list may be sorted by (name -> SQL)."""

_EFFECTIVE = """
    SELECT f.case_id, f.field, f.value FROM field_values f
    WHERE f.origin = 'user' OR NOT EXISTS (
        SELECT 1 FROM field_values u
        WHERE u.case_id = f.case_id AND u.field = f.field AND u.origin = 'user')
"""


@dataclass(frozen=True)
class CaseQuery:
    """What the list shows: filters (None = any), sort, and the page (from 1)."""

    status: str | None = None
    search: str | None = None
    month: str | None = None
    organ_system: str | None = None
    printer: str | None = None
    field: str | None = None
    """With ``value``: only cases whose field holds the value (a lab field; the rule of
    :func:`printharvest.cases.filters.case_matches`: trimmed, case-insensitive, a list must
    hold it)."""
    value: str | None = None
    sort: str = "id"
    descending: bool = False
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class CasePage:
    """One page of case ids, and how many cases match in all."""

    ids: list[int]
    total: int


def find_cases(store: Store, query: CaseQuery) -> CasePage:
    """The ids of one page of matching cases, in the asked order."""
    where: list[str] = []
    args: list[Any] = []
    if query.status:
        where.append("c.status = ?")
        args.append(query.status)
    if query.search:
        needle = f"%{query.search.strip().lower()}%"
        where.append("(lower(c.case_key) LIKE ? OR lower(c.registry_id) LIKE ?"
                     " OR CAST(c.id AS TEXT) = ?)")
        args += [needle, needle, query.search.strip()]
    if query.month:
        where.append("substr(c.created_at, 1, 7) = ?")
        args.append(query.month)
    if query.organ_system:
        where.append("EXISTS (SELECT 1 FROM eff WHERE eff.case_id = c.id"
                     " AND eff.field = 'imaging.organ_system' AND eff.value = ?)")
        args.append(json.dumps(query.organ_system))
    if query.printer:
        where.append("EXISTS (SELECT 1 FROM eff WHERE eff.case_id = c.id"
                     " AND eff.field LIKE 'prints.%.printer_label' AND eff.value = ?)")
        args.append(json.dumps(query.printer))
    if query.field and query.value:
        # json_each reads a list item by item and a single value as itself.
        # (SQLite's lower() folds ASCII letters only.)
        where.append("EXISTS (SELECT 1 FROM eff, json_each(CASE WHEN json_valid(eff.value)"
                     " THEN eff.value ELSE 'null' END) item"
                     " WHERE eff.case_id = c.id AND eff.field = ?"
                     " AND item.type IN ('text', 'integer', 'real')"
                     " AND lower(trim(CAST(item.value AS TEXT))) = lower(trim(?)))")
        args += [query.field, query.value]
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    order = SORTS.get(query.sort, "c.id") + (" DESC" if query.descending else "")
    head = f"WITH eff AS ({_EFFECTIVE}) "
    total = store.conn.execute(f"{head}SELECT COUNT(*) FROM cases c{clause}",
                               args).fetchone()[0]
    page = max(1, query.page)
    rows = store.conn.execute(
        f"{head}SELECT c.id FROM cases c{clause} ORDER BY {order}, c.id LIMIT ? OFFSET ?",
        [*args, query.per_page, (page - 1) * query.per_page])
    return CasePage([row[0] for row in rows], int(total))


def filter_choices(store: Store) -> dict[str, list[str]]:
    """The values the list's filters offer: months with cases, organ systems and printer
    labels that cases hold."""
    months = [row[0] for row in store.conn.execute(
        "SELECT DISTINCT substr(created_at, 1, 7) FROM cases ORDER BY 1 DESC")]

    def values(condition: str) -> list[str]:
        found = store.conn.execute(
            f"WITH eff AS ({_EFFECTIVE}) SELECT DISTINCT value FROM eff WHERE {condition}")
        decoded = (json.loads(row[0]) for row in found)
        return sorted({v for v in decoded if isinstance(v, str) and v})

    return {"month": months,
            "organ_system": values("field = 'imaging.organ_system'"),
            "printer": values("field LIKE 'prints.%.printer_label'")}
