"""SQL for the NRDR outbox: every transaction is recorded here before it is sent.

One row is one case version in one transaction; the rows of a batch share ``batch_key`` (and,
once the registry answered, ``transaction_id``). States: ``pending`` (recorded, not yet
confirmed received), ``sent`` (the registry gave a transaction id, result not final),
``accepted`` / ``rejected`` (final, with the registry's messages), ``replaced`` (final: a newer
transaction of the same case superseded it), ``failed`` (gave up after the retries; resumable
like pending). ``registry_state`` keeps the registry's own word (``PartiallySuccessful``, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from printharvest.store.core import Store, now

OPEN_STATES = ("pending", "sent", "failed")


@dataclass(frozen=True)
class OutboxRow:
    """One transaction."""

    id: int
    case_id: int
    idempotency_key: str
    version_hash: str
    environment: str
    body: str
    state: str
    transaction_id: str | None
    attempts: int
    last_error: str | None
    messages: list[dict[str, Any]]
    created_at: str
    updated_at: str
    batch_key: str | None = None
    registry_state: str | None = None


_COLUMNS = ("id, case_id, idempotency_key, version_hash, environment, body, state,"
            " transaction_id, attempts, last_error, messages, created_at, updated_at,"
            " batch_key, registry_state")


def _row(row: tuple[Any, ...]) -> OutboxRow:
    values = list(row)
    values[10] = json.loads(values[10])
    return OutboxRow(*values)


class Outbox:
    """The ``nrdr_outbox`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def find(self, environment: str, idempotency_key: str) -> OutboxRow | None:
        """The transaction with this key in this environment (test and production are
        separate registries), if any."""
        row = self.store.conn.execute(
            f"SELECT {_COLUMNS} FROM nrdr_outbox WHERE environment = ? AND idempotency_key = ?",
            (environment, idempotency_key)).fetchone()
        return None if row is None else _row(row)

    def get(self, row_id: int) -> OutboxRow:
        """One transaction by row id."""
        row = self.store.conn.execute(
            f"SELECT {_COLUMNS} FROM nrdr_outbox WHERE id = ?", (row_id,)).fetchone()
        assert row is not None
        return _row(row)

    def add(self, case_id: int, idempotency_key: str, version_hash: str, environment: str,
            body: str, batch_key: str | None = None) -> OutboxRow:
        """Record a case version as pending (before anything is sent), in batch ``batch_key``."""
        stamp = now()
        cursor = self.store.conn.execute(
            "INSERT INTO nrdr_outbox (case_id, idempotency_key, version_hash, environment, body,"
            " state, created_at, updated_at, batch_key) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            (case_id, idempotency_key, version_hash, environment, body, stamp, stamp, batch_key))
        return self.get(int(cursor.lastrowid or 0))

    def batch(self, batch_key: str) -> list[OutboxRow]:
        """The rows of one batch, in the order they were recorded (the transaction's order)."""
        rows = self.store.conn.execute(
            f"SELECT {_COLUMNS} FROM nrdr_outbox WHERE batch_key = ? ORDER BY id", (batch_key,))
        return [_row(r) for r in rows]

    def update(self, row_id: int, *, state: str | None = None,
               transaction_id: str | None = None, attempts: int | None = None,
               last_error: str | None = None, messages: list[dict[str, Any]] | None = None,
               clear_error: bool = False, registry_state: str | None = None) -> OutboxRow:
        """Change a transaction's columns (only those given)."""
        sets: list[str] = ["updated_at = ?"]
        args: list[Any] = [now()]
        for column, value in (("state", state), ("transaction_id", transaction_id),
                              ("attempts", attempts), ("last_error", last_error),
                              ("registry_state", registry_state)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        if clear_error:
            sets.append("last_error = NULL")
        if messages is not None:
            sets.append("messages = ?")
            args.append(json.dumps(messages))
        self.store.conn.execute(f"UPDATE nrdr_outbox SET {', '.join(sets)} WHERE id = ?",
                                (*args, row_id))
        return self.get(row_id)

    def open_rows(self, environment: str | None = None,
                  case_ids: list[int] | None = None) -> list[OutboxRow]:
        """Transactions not yet final (to resume), oldest first, of one environment or all."""
        marks = ", ".join("?" for _ in OPEN_STATES)
        rows = self.store.conn.execute(
            f"SELECT {_COLUMNS} FROM nrdr_outbox WHERE state IN ({marks}) ORDER BY id",
            OPEN_STATES).fetchall()
        if environment is not None:
            rows = [r for r in rows if r[4] == environment]
        found = [_row(r) for r in rows]
        return found if case_ids is None else [r for r in found if r.case_id in case_ids]

    def all_rows(self, case_id: int | None = None) -> list[OutboxRow]:
        """Every transaction (optionally of one case), oldest first."""
        sql = f"SELECT {_COLUMNS} FROM nrdr_outbox"
        args: tuple[Any, ...] = ()
        if case_id is not None:
            sql += " WHERE case_id = ?"
            args = (case_id,)
        return [_row(r) for r in self.store.conn.execute(sql + " ORDER BY id", args)]

    def latest(self, case_id: int) -> OutboxRow | None:
        """A case's most recent transaction: its state and registry messages for display."""
        rows = self.all_rows(case_id)
        return rows[-1] if rows else None
