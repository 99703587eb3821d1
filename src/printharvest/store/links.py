"""Records shared by several cases, and the file contents each record was read from.

A record is stored once per content (sha256, index) and belongs to the case that first
harvested it (``records.case_id``). The same content in another job (the DICOM series behind
a model and, later, behind a guide for the same patient) links that record to the other case
too (``record_links``), so the second case gets its imaging facts without a second record.
``record_contents`` keeps the sha256 of every file (and of every zip a member came from) that
a record was read from: a duplicate file found by the inbox leads back to its records.
"""

from __future__ import annotations

from collections.abc import Iterable

from printharvest.store.core import Store, now


def save_contents(store: Store, record_id: int, shas: Iterable[str]) -> None:
    """Remember which file contents a record was read from (inside the caller's transaction)."""
    store.conn.executemany(
        "INSERT OR IGNORE INTO record_contents (record_id, sha256) VALUES (?, ?)",
        [(record_id, sha) for sha in sorted(set(shas))])


def records_with_content(store: Store, sha256: str) -> list[int]:
    """Ids of the records read (in whole or in part) from a file with this content."""
    rows = store.conn.execute(
        "SELECT record_id FROM record_contents WHERE sha256 = ?"
        " UNION SELECT id FROM records WHERE sha256 = ? ORDER BY 1", (sha256, sha256))
    return [int(row[0]) for row in rows]


def record_id(store: Store, sha256: str, index: int) -> int | None:
    """The id of the record stored for (sha256, index), if any."""
    row = store.conn.execute("SELECT id FROM records WHERE sha256 = ? AND idx = ?",
                             (sha256, index)).fetchone()
    return int(row[0]) if row else None


def link(store: Store, record: int, case_id: int) -> bool:
    """Link a stored record to one more case; False when it already belongs to that case."""
    home = store.conn.execute("SELECT case_id FROM records WHERE id = ?", (record,)).fetchone()
    if home is None or int(home[0]) == case_id:
        return False
    cursor = store.conn.execute(
        "INSERT OR IGNORE INTO record_links (record_id, case_id, linked_at) VALUES (?, ?, ?)",
        (record, case_id, now()))
    return cursor.rowcount > 0


def cases_of_record(store: Store, record: int) -> list[int]:
    """Every case a record belongs to: its own first, then the linked ones."""
    home = store.conn.execute("SELECT case_id FROM records WHERE id = ?", (record,)).fetchone()
    linked = [int(r[0]) for r in store.conn.execute(
        "SELECT case_id FROM record_links WHERE record_id = ? ORDER BY case_id", (record,))]
    return ([int(home[0])] if home else []) + linked


def linked_record_ids(store: Store, case_id: int) -> list[int]:
    """Ids of the records linked to a case (not its own)."""
    return [int(r[0]) for r in store.conn.execute(
        "SELECT record_id FROM record_links WHERE case_id = ? ORDER BY record_id", (case_id,))]


def records_of_kinds(store: Store, record_ids: list[int], kinds: tuple[str, ...]) -> list[int]:
    """Those of ``record_ids`` whose kind is one of ``kinds``, in order."""
    if not record_ids:
        return []
    marks = ",".join("?" * len(record_ids))
    kind_marks = ",".join("?" * len(kinds))
    rows = store.conn.execute(
        f"SELECT id FROM records WHERE id IN ({marks}) AND kind IN ({kind_marks}) ORDER BY id",
        (*record_ids, *kinds))
    return [int(row[0]) for row in rows]
