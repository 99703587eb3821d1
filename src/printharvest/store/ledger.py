"""SQL for the lab's ledger: every print record ever harvested, lots, retiring a record.

The print history is never deleted: a record the lab wants out of its history (a test print,
a job filed under the wrong case) is *retired* with a reason, audit-logged, and still listed
as retired.
"""

from __future__ import annotations

from dataclasses import dataclass

from printharvest.exceptions import StoreError
from printharvest.models import HarvestRecord
from printharvest.store.core import Store, now


@dataclass(frozen=True)
class PrintRow:
    """One print record with its case, as the ledger lists it."""

    record_id: int
    case_id: int
    case_key: str
    registry_id: str
    record: HarvestRecord
    harvested_at: str
    retired_at: str | None
    retired_reason: str | None


class Ledger:
    """The print records of the store, across every case."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def prints(self) -> list[PrintRow]:
        """Every print record, oldest harvest first, retired ones included."""
        rows = self.store.conn.execute(
            "SELECT r.id, r.case_id, c.case_key, c.registry_id, r.body, r.harvested_at,"
            " r.retired_at, r.retired_reason FROM records r JOIN cases c ON c.id = r.case_id"
            " WHERE r.kind = 'print' ORDER BY r.id")
        return [PrintRow(row[0], row[1], row[2], row[3],
                         HarvestRecord.model_validate_json(row[4]), row[5], row[6], row[7])
                for row in rows]

    def retire(self, record_id: int, reason: str, actor: str) -> PrintRow:
        """Retire one print record with a reason (audit-logged); it stays in the history."""
        if not reason.strip():
            raise StoreError("retiring a print record needs a reason")
        with self.store.transaction() as conn:
            row = conn.execute("SELECT case_id, kind, retired_at FROM records WHERE id = ?",
                               (record_id,)).fetchone()
            if row is None or row[1] != "print":
                raise StoreError(f"no print record {record_id}")
            if row[2] is not None:
                raise StoreError(f"print record {record_id} was already retired on {row[2]}")
            conn.execute("UPDATE records SET retired_at = ?, retired_reason = ? WHERE id = ?",
                         (now(), reason.strip(), record_id))
            self.store.log(row[0], actor, "retire print record", f"record {record_id}", None,
                           reason.strip())
        return next(p for p in self.prints() if p.record_id == record_id)
