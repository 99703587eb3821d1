"""Migration 160 keeps every outbox row of an older store and allows the new states."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from printharvest.store.migrations import MIGRATIONS, migrate


def test_outbox_rows_survive_the_batch_migration(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, [m for m in MIGRATIONS if m.number < 160])
    conn.execute("INSERT INTO cases (id, case_key, registry_id, created_at, updated_at)"
                 " VALUES (1, 'k', 'PH-1', 't', 't')")
    conn.execute("INSERT INTO nrdr_outbox (case_id, idempotency_key, version_hash, environment,"
                 " body, state, created_at, updated_at) VALUES (1, 'case-1-a', 'a', 'test',"
                 " '{\"header\": {}, \"case\": {\"caseId\": \"PH-1\"}}', 'sent', 't', 't')")
    ran = migrate(conn)
    assert [m.number for m in ran if 160 <= m.number < 170] == [160, 161]
    row = conn.execute("SELECT case_id, state, batch_key, registry_state FROM nrdr_outbox"
                       ).fetchone()
    assert row == (1, "sent", None, None)
    conn.execute("UPDATE nrdr_outbox SET state = 'replaced'")  # the new state is allowed
    assert conn.execute("SELECT result FROM registry_exports").fetchall() == []
    conn.close()
