"""A harvested file that changed in place (appended to, rewritten): its record is updated.

A tool that writes a file in several steps, or a technician who saves a job again under the
same name, gives new content at the same path. The record read from that path is updated in
place (new content hash, new values), so the case never holds a fragment beside the whole.
"""

from __future__ import annotations

import json

from printharvest.models import HarvestRecord
from printharvest.store.core import Store, now


def record_at_path(store: Store, path: str, index: int, kind: str) -> tuple[int, int] | None:
    """``(record id, case id)`` of the record of this kind read from ``path`` at ``index``."""
    row = store.conn.execute(
        "SELECT id, case_id FROM records WHERE path = ? AND idx = ? AND kind = ?"
        " ORDER BY id DESC LIMIT 1", (path, index, kind)).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def replace_record(store: Store, record_id: int, record: HarvestRecord,
                   rule_notes: dict[str, str]) -> str:
    """Put a re-read record in place of the stored one; returns the old content hash."""
    old = store.conn.execute("SELECT sha256 FROM records WHERE id = ?", (record_id,)).fetchone()
    source = record.source
    store.conn.execute(
        "UPDATE records SET sha256 = ?, connector = ?, connector_version = ?, body = ?,"
        " rule_notes = ?, harvested_at = ? WHERE id = ?",
        (source.sha256, source.connector, source.connector_version, record.model_dump_json(),
         json.dumps(rule_notes, sort_keys=True), now(), record_id))
    store.conn.execute("DELETE FROM record_contents WHERE record_id = ?", (record_id,))
    store.conn.execute("DELETE FROM imaging_series WHERE record_id = ?", (record_id,))
    return str(old[0]) if old else ""
