"""Schema migrations: ordered, named, and recorded in ``schema_migrations``.

Append new migrations to ``MIGRATIONS`` with the next number; never edit one that has
shipped. Each runs in its own transaction together with its row in ``schema_migrations``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from printharvest.exceptions import MigrationError


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    number: int
    name: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration(1, "initial", """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            case_key TEXT NOT NULL UNIQUE,
            registry_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'needs_clinical',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            idx INTEGER NOT NULL,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            kind TEXT NOT NULL,
            connector TEXT NOT NULL,
            connector_version TEXT NOT NULL,
            path TEXT NOT NULL,
            body TEXT NOT NULL,
            rule_notes TEXT NOT NULL DEFAULT '{}',
            harvested_at TEXT NOT NULL,
            UNIQUE (sha256, idx)
        );
        CREATE TABLE field_values (
            case_id INTEGER NOT NULL REFERENCES cases(id),
            field TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('harvest', 'user')),
            value TEXT NOT NULL,
            provenance TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (case_id, field, origin)
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            case_id INTEGER REFERENCES cases(id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            field TEXT,
            old TEXT,
            new TEXT
        );
    """),
    Migration(2, "index records by case and audit by case", """
        CREATE INDEX records_by_case ON records (case_id);
        CREATE INDEX audit_by_case ON audit (case_id, at);
    """),
    Migration(10, "conflicts the data manager resolved by keeping the typed value", """
        CREATE TABLE conflict_acks (
            case_id INTEGER NOT NULL REFERENCES cases(id),
            field TEXT NOT NULL,
            harvested_value TEXT NOT NULL,
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (case_id, field)
        );
    """),
    Migration(11, "index cases by status for the case list", """
        CREATE INDEX cases_by_status ON cases (status);
    """),
    Migration(20, "registry exports", """
        CREATE TABLE registry_exports (
            id INTEGER PRIMARY KEY,
            export_id TEXT NOT NULL,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            format TEXT NOT NULL,
            file TEXT NOT NULL,
            version_hash TEXT NOT NULL,
            actor TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX registry_exports_by_case ON registry_exports (case_id);
    """),
    Migration(21, "nrdr outbox", """
        CREATE TABLE nrdr_outbox (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            idempotency_key TEXT NOT NULL,
            version_hash TEXT NOT NULL,
            environment TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                ('pending', 'sent', 'accepted', 'rejected', 'failed')),
            transaction_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            messages TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (environment, idempotency_key)
        );
        CREATE INDEX nrdr_outbox_by_case ON nrdr_outbox (case_id, id);
    """),
    Migration(30, "watch journal: inbox jobs, their files, the service heartbeat", """
        CREATE TABLE watch_jobs (
            id INTEGER PRIMARY KEY,
            inbox TEXT NOT NULL,
            name TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
            files INTEGER NOT NULL DEFAULT 0,
            records INTEGER NOT NULL DEFAULT 0,
            duplicates INTEGER NOT NULL DEFAULT 0,
            quarantined INTEGER NOT NULL DEFAULT 0,
            cases TEXT NOT NULL DEFAULT '[]',
            error TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE TABLE watch_files (
            id INTEGER PRIMARY KEY,
            job_id INTEGER REFERENCES watch_jobs(id),
            inbox TEXT NOT NULL,
            rel_path TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT,
            state TEXT NOT NULL CHECK (state IN ('seen', 'harvesting', 'harvested',
                'archiving', 'quarantining', 'archived', 'kept', 'quarantined', 'changed',
                'vanished')),
            outcome TEXT CHECK (outcome IN ('harvested', 'duplicate', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            destination TEXT,
            first_seen TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX watch_files_open ON watch_files (inbox, rel_path)
            WHERE state IN ('seen', 'harvesting', 'harvested', 'archiving', 'quarantining');
        CREATE INDEX watch_files_sha ON watch_files (sha256);
        CREATE INDEX watch_files_state ON watch_files (state);
        CREATE INDEX watch_files_job ON watch_files (job_id);
        CREATE TABLE watch_service (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            beat_at TEXT NOT NULL,
            stopped_at TEXT
        );
    """),
    Migration(40, "poller cursors", """
        CREATE TABLE poller_cursors (
            poller TEXT PRIMARY KEY,
            cursor TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            next_due_at REAL NOT NULL DEFAULT 0,
            last_error TEXT,
            last_success_at TEXT,
            updated_at TEXT NOT NULL
        );
    """),
    Migration(50, "imaging series as salted hashes", """
        CREATE TABLE imaging_series (
            record_id INTEGER NOT NULL REFERENCES records(id),
            study_hash TEXT NOT NULL,
            series_hash TEXT NOT NULL,
            PRIMARY KEY (record_id, study_hash, series_hash)
        );
    """),
    Migration(130, "records linked to more cases, and the file contents behind a record", """
        CREATE TABLE record_links (
            record_id INTEGER NOT NULL REFERENCES records(id),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            linked_at TEXT NOT NULL,
            PRIMARY KEY (record_id, case_id)
        );
        CREATE INDEX record_links_by_case ON record_links (case_id);
        CREATE TABLE record_contents (
            record_id INTEGER NOT NULL REFERENCES records(id),
            sha256 TEXT NOT NULL,
            PRIMARY KEY (record_id, sha256)
        );
        CREATE INDEX record_contents_by_sha ON record_contents (sha256);
    """),
    Migration(140, "watch journal: look a file up by its path in any state", """
        CREATE INDEX watch_files_path ON watch_files (inbox, rel_path, state)
    """),
    Migration(160, "outbox: batches of case records, and transactions replaced by newer ones", """
        CREATE TABLE nrdr_outbox_new (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            idempotency_key TEXT NOT NULL,
            version_hash TEXT NOT NULL,
            environment TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                ('pending', 'sent', 'accepted', 'rejected', 'failed', 'replaced')),
            transaction_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            messages TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            batch_key TEXT,
            registry_state TEXT,
            UNIQUE (environment, idempotency_key)
        );
        INSERT INTO nrdr_outbox_new (id, case_id, idempotency_key, version_hash, environment,
            body, state, transaction_id, attempts, last_error, messages, created_at, updated_at)
            SELECT id, case_id, idempotency_key, version_hash, environment, body, state,
            transaction_id, attempts, last_error, messages, created_at, updated_at
            FROM nrdr_outbox;
        DROP TABLE nrdr_outbox;
        ALTER TABLE nrdr_outbox_new RENAME TO nrdr_outbox;
        CREATE INDEX nrdr_outbox_by_case ON nrdr_outbox (case_id, id);
        CREATE INDEX nrdr_outbox_by_batch ON nrdr_outbox (batch_key)
    """),
    Migration(161, "registry exports: the registry's result per uploaded row", """
        ALTER TABLE registry_exports ADD COLUMN result TEXT;
        ALTER TABLE registry_exports ADD COLUMN result_message TEXT;
        ALTER TABLE registry_exports ADD COLUMN result_at TEXT
    """),
    Migration(190, "print records can be retired (never deleted) with a reason", """
        ALTER TABLE records ADD COLUMN retired_at TEXT;
        ALTER TABLE records ADD COLUMN retired_reason TEXT;
    """),
    Migration(200, "records found by the path they were read from", """
        CREATE INDEX records_by_path ON records (path, idx, kind);
    """),
]


def applied(conn: sqlite3.Connection) -> dict[int, str]:
    """The migrations already applied to this store."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    return {row[0]: row[1] for row in conn.execute("SELECT number, name FROM schema_migrations")}


def migrate(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration in order; return the ones applied now."""
    steps = sorted(migrations if migrations is not None else MIGRATIONS, key=lambda m: m.number)
    done = applied(conn)
    known = {m.number for m in steps}
    newer = sorted(set(done) - known)
    if newer:
        raise MigrationError(
            f"the store has schema migration {newer[-1]} ({done[newer[-1]]}) that this version "
            "of printharvest does not know: upgrade printharvest"
        )
    ran: list[Migration] = []
    for step in steps:
        if step.number in done:
            continue
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(step.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                (step.number, step.name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise MigrationError(f"migration {step.number} ({step.name}) failed: {exc}") from exc
        ran.append(step)
    return ran


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]
