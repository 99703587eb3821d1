"""SQL for registry exports: which case went into which upload file, when, by whom."""

from __future__ import annotations

from dataclasses import dataclass

from printharvest.store.core import Store, now


@dataclass(frozen=True)
class ExportRow:
    """One case in one export."""

    export_id: str
    case_id: int
    format: str
    file: str
    version_hash: str
    actor: str
    at: str


class ExportLog:
    """The ``registry_exports`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, export_id: str, case_id: int, fmt: str, file: str, version_hash: str,
               actor: str) -> None:
        """Record one case of an export (caller holds the transaction)."""
        self.store.conn.execute(
            "INSERT INTO registry_exports (export_id, case_id, format, file, version_hash,"
            " actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (export_id, case_id, fmt, file, version_hash, actor, now()))

    def for_case(self, case_id: int) -> list[ExportRow]:
        """A case's exports, oldest first."""
        rows = self.store.conn.execute(
            "SELECT export_id, case_id, format, file, version_hash, actor, at"
            " FROM registry_exports WHERE case_id = ? ORDER BY id", (case_id,))
        return [ExportRow(*row) for row in rows]

    def set_result(self, case_id: int, result: str, message: str) -> None:
        """Keep the registry's result on a case's latest export (caller holds the
        transaction)."""
        self.store.conn.execute(
            "UPDATE registry_exports SET result = ?, result_message = ?, result_at = ?"
            " WHERE id = (SELECT MAX(id) FROM registry_exports WHERE case_id = ?)",
            (result, message, now(), case_id))
