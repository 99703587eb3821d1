"""Poller cursors and back-off state, one row per configured printer (migration 40).

A cursor is written inside the same transaction as the records it covers (see
:class:`printharvest.pollers.service.PollerService`), so a crash between the two cannot
lose or repeat a job.
"""

from __future__ import annotations

from dataclasses import dataclass

from printharvest.store.core import Store, now


@dataclass(frozen=True)
class CursorState:
    """Where a printer's poller stands."""

    poller: str
    cursor: str | None = None
    failures: int = 0
    next_due_at: float = 0.0
    last_error: str | None = None
    last_success_at: str | None = None


def load_cursor(store: Store, poller: str) -> CursorState:
    """The saved state of ``poller`` (a fresh state when it never ran)."""
    row = store.conn.execute(
        "SELECT poller, cursor, failures, next_due_at, last_error, last_success_at"
        " FROM poller_cursors WHERE poller = ?", (poller,)).fetchone()
    return CursorState(*row) if row else CursorState(poller)


def save_cursor(store: Store, state: CursorState) -> None:
    """Write ``state`` (call inside the transaction that stores the covered records)."""
    store.conn.execute(
        "INSERT INTO poller_cursors (poller, cursor, failures, next_due_at, last_error,"
        " last_success_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (poller) DO UPDATE SET cursor = excluded.cursor,"
        " failures = excluded.failures, next_due_at = excluded.next_due_at,"
        " last_error = excluded.last_error, last_success_at = excluded.last_success_at,"
        " updated_at = excluded.updated_at",
        (state.poller, state.cursor, state.failures, state.next_due_at, state.last_error,
         state.last_success_at, now()))
