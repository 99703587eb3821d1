"""Batch reads: every case's rows, records, field values and kept conflicts in one query
each, for pages and reports over all cases (reading them case by case costs a query per
case and per kind)."""

from __future__ import annotations

import json
from typing import Any

from printharvest.cases.model import FieldValue, Provenance
from printharvest.models import HarvestRecord
from printharvest.store.core import Store, StoredRecord, stored_field_value


def records_by_case(store: Store) -> dict[int, list[StoredRecord]]:
    """Every case's records (its own and those linked to it) in the order they were
    harvested, as :meth:`Store.records_for_case` gives them; each record is read once."""
    rows = store.conn.execute(
        "SELECT case_id AS owner, id, case_id, body, rule_notes, harvested_at FROM records"
        " UNION ALL"
        " SELECT l.case_id, r.id, r.case_id, r.body, r.rule_notes, r.harvested_at"
        " FROM record_links l JOIN records r ON r.id = l.record_id"
        " ORDER BY 1, 2")
    parsed: dict[int, StoredRecord] = {}
    found: dict[int, list[StoredRecord]] = {}
    for owner, record_id, case_id, body, notes, harvested_at in rows:
        records = found.setdefault(owner, [])
        if records and records[-1].id == record_id:
            continue  # linked to the case it belongs to
        stored = parsed.get(record_id)
        if stored is None:
            stored = StoredRecord(record_id, case_id, HarvestRecord.model_validate_json(body),
                                  json.loads(notes), harvested_at)
            parsed[record_id] = stored
        records.append(stored)
    return found


def field_values_by_case(store: Store) -> dict[int, dict[str, dict[str, FieldValue]]]:
    """Every case's stored values: ``{case_id: {field: {origin: FieldValue}}}``, as
    :meth:`Store.field_values` gives them for one case."""
    found: dict[int, dict[str, dict[str, FieldValue]]] = {}
    seen: dict[str, Provenance] = {}
    for case_id, field, origin, value, provenance in store.conn.execute(
            "SELECT case_id, field, origin, value, provenance FROM field_values"):
        found.setdefault(case_id, {}).setdefault(field, {})[origin] = stored_field_value(
            value, provenance, seen)
    return found


def acknowledged_by_case(store: Store) -> dict[int, dict[str, Any]]:
    """Every case's kept conflicts (harvested values overridden), by case and field."""
    found: dict[int, dict[str, Any]] = {}
    for case_id, field, value in store.conn.execute(
            "SELECT case_id, field, harvested_value FROM conflict_acks"):
        found.setdefault(case_id, {})[str(field)] = json.loads(value)
    return found

