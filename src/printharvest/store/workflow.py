"""Case workflow storage: status changes, counts per status, acknowledged conflicts.

Every change is written to the audit table (who, when, field, old, new) in the same
transaction as the change itself.
"""

from __future__ import annotations

import json
from typing import Any

from printharvest.store.core import Store, now


def change_status(store: Store, case_id: int, status: str, actor: str) -> str:
    """Set a case's status and log it (field ``status``); return the old status.

    The SQL half of ``printharvest.cases.status.move``, which checks the transition table
    first: call that, not this.
    """
    old = store.case_row(case_id).status
    if old != status:
        store.conn.execute("UPDATE cases SET status = ?, updated_at = ? WHERE id = ?",
                           (status, now(), case_id))
        store.log(case_id, actor, "status", "status", old, status)
    return old


def status_counts(store: Store) -> dict[str, int]:
    """How many cases have each status."""
    rows = store.conn.execute("SELECT status, COUNT(*) FROM cases GROUP BY status")
    return {str(status): int(count) for status, count in rows}


def acknowledge_conflict(store: Store, case_id: int, field: str, harvested: Any,
                         actor: str, *, log: bool = True) -> None:
    """Remember that the data manager kept the typed value against this harvested one."""
    value = json.dumps(harvested, sort_keys=True)
    store.conn.execute(
        "INSERT INTO conflict_acks (case_id, field, harvested_value, actor, at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id, field) DO UPDATE SET"
        " harvested_value = excluded.harvested_value, actor = excluded.actor, at = excluded.at",
        (case_id, field, value, actor, now()))
    if log:
        store.log(case_id, actor, "keep_typed", field, value, None)


def acknowledged_conflicts(store: Store, case_id: int) -> dict[str, Any]:
    """The harvested values the data manager chose to override, by field."""
    rows = store.conn.execute(
        "SELECT field, harvested_value FROM conflict_acks WHERE case_id = ?", (case_id,))
    return {str(field): json.loads(value) for field, value in rows}
