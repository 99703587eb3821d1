"""Store: WAL mode, ordered named migrations on an old store, dedupe on re-ingest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.exceptions import MigrationError
from printharvest.store import Store
from printharvest.store.migrations import MIGRATIONS, Migration, migrate


def test_new_store_is_wal_and_fully_migrated(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = store.conn.execute("SELECT number, name FROM schema_migrations ORDER BY number")
        assert [tuple(r) for r in rows] == [(m.number, m.name) for m in MIGRATIONS]


def test_old_store_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    conn.execute("INSERT INTO cases (case_key, registry_id, status, created_at, updated_at)"
                 " VALUES ('job-1', 'PH-1', 'needs_clinical', 't', 't')")
    conn.close()
    with Store.open(path) as store:
        numbers = [r[0] for r in store.conn.execute("SELECT number FROM schema_migrations")]
        assert numbers == [m.number for m in MIGRATIONS]
        assert [c.case_key for c in store.case_rows()] == ["job-1"]
        indexes = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master"
                                                    " WHERE type = 'index'")}
        assert "records_by_case" in indexes


def test_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, [*MIGRATIONS, Migration(999, "from the future", "CREATE TABLE f (x)")])
    conn.close()
    with pytest.raises(MigrationError, match="999"):
        Store.open(path)


def test_not_a_database_is_a_store_error(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    (home / "printharvest.db").write_bytes(b"this is not sqlite" * 100)
    result = run_cli("--home", str(home), "cases", "list")
    assert result.code == 1
    assert "not a database" in result.err
    assert "Traceback" not in result.err


def test_reingest_deduplicates_by_content(home: Path, sample_jobs_copy: Path) -> None:
    app = App.open(home)
    first = app.cases.ingest(app.harvester.harvest_paths([sample_jobs_copy]))
    # per case: a print, a mesh and one imaging record for the DICOM folder
    assert first.new_records == 12 and first.duplicates == 0
    again = app.cases.ingest(app.harvester.harvest_paths([sample_jobs_copy]))
    assert again.new_records == 0 and again.duplicates == 12
    assert app.store.record_count() == 12
    assert len(app.cases.list()) == 3
    app.close()
