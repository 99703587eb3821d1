"""Store: records, cases, field values and the audit log."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from printharvest.cases.model import FieldValue, Provenance
from printharvest.exceptions import RecordNotFoundError, StoreError, StoreFullError
from printharvest.models import HarvestRecord
from printharvest.privacy.files import create_private
from printharvest.store.migrations import migrate

SQLITE_HEADER = b"SQLite format 3\x00"
LOW_SPACE_BYTES = 1 << 20
"""Free bytes below which the store's disk counts as full (an I/O error there is ENOSPC)."""
PROBE_BYTES = 256 << 10
"""Room a write probe asks of the store before writing is said to work again."""


def _full_detail(exc: BaseException, path: Path) -> str | None:
    """Why ``exc`` means the store has no room to write, or None when it means something else.

    SQLITE_FULL is SQLite's own "database or disk is full" (also its ``max_page_count`` cap).
    A full disk under the WAL or journal file may surface as SQLITE_IOERR ("disk I/O error")
    instead: that counts as full only while the store's disk really is (nearly) full.
    """
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    if code & 0xFF == sqlite3.SQLITE_FULL:
        return str(exc)
    if code & 0xFF == sqlite3.SQLITE_IOERR:
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            return None
        if free < LOW_SPACE_BYTES:
            return f"{exc}; {free} byte(s) free on its disk"
    return None


def _refuse_unusable(path: Path) -> None:
    """StoreError (touching nothing) when ``path`` exists but cannot be a store."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the store ({exc.strerror})") from exc
    if not head:
        raise StoreError(f"{path}: the store file is empty (0 bytes); printharvest left it "
                         "untouched: restore it from a backup, or move it away to start anew")
    if head != SQLITE_HEADER:
        raise StoreError(f"{path}: not a database (damaged, or another kind of file); printharvest "
                         "left it untouched: restore it from a backup")


def _create(path: Path) -> None:
    """Make a new, migrated store at ``path`` atomically: built under a temporary name and
    linked into place, so that a kill at any moment leaves no empty store behind (an empty
    one is refused). Owner-only (0600); SQLite gives its WAL files the same mode."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    create_private(temporary)
    try:
        conn = sqlite3.connect(temporary, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            migrate(conn)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(temporary, path)
    finally:
        for leftover in (temporary, *(Path(f"{temporary}{s}") for s in ("-wal", "-shm"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def now() -> str:
    """The current UTC time as ISO 8601, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def stored_field_value(value: str, provenance: str,
                       seen: dict[str, Provenance] | None = None) -> FieldValue:
    """A field value from its stored JSON columns.

    ``seen`` memoises provenances already read in a batch (many values share one: every
    field typed in one save, every field a rule took from one record)."""
    # The provenance is validated; the value is any JSON, so the wrapper needs no second
    # validation pass (this runs for every field of every case listed).
    known = seen.get(provenance) if seen is not None else None
    if known is None:
        known = Provenance.model_validate_json(provenance)
        if seen is not None:
            seen[provenance] = known
    return FieldValue.model_construct(value=json.loads(value), provenance=known)


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored, with its row id, case and rule notes."""

    id: int
    case_id: int
    record: HarvestRecord
    rule_notes: dict[str, str]
    harvested_at: str


@dataclass(frozen=True)
class CaseRow:
    """A case's own columns."""

    id: int
    case_key: str
    registry_id: str
    status: str
    created_at: str
    updated_at: str


class Store:
    """The lab's SQLite store."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating and migrating if needed) the store at ``path``.

        An existing file that is empty or not an SQLite database is refused untouched: it
        is never silently re-initialised (that would lose the lab's cases).
        """
        _refuse_unusable(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                _create(path)
            conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            # Read the schema before anything writes (journal mode does), so that a damaged
            # file is refused as it was found.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            # A full disk fails the creation, or the WAL index opening makes: "damaged,
            # restore it from a backup" would send the lab to replace a good store.
            if (full := _full_detail(exc, path)) is not None:
                raise StoreFullError(path, full) from exc
            raise StoreError(f"{path}: the store is damaged ({exc}); printharvest left it "
                             "untouched: restore it from a backup") from exc
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the store ({exc})") from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{path}: cannot open the store ({exc})") from exc
        try:
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: not a printharvest store ({exc})") from exc
        except Exception:
            conn.close()
            raise
        return cls(conn, path)

    def check_integrity(self) -> None:
        """StoreError when SQLite's quick check finds damage (used before serving)."""
        try:
            rows = self.conn.execute("PRAGMA quick_check(1)").fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: the store is damaged ({exc}); printharvest left "
                             "it untouched: restore it from a backup") from exc
        if rows != [("ok",)]:
            detail = " ".join(str(rows[0][0]).split())[:120] if rows else "no answer"
            raise StoreError(f"{self.path}: the store is damaged ({detail}); printharvest "
                             "left it untouched: restore it from a backup")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back if the block raises.

        Nested inside another transaction it becomes a savepoint, so a caller can commit
        several writes (e.g. a poller's records and its cursor) as one.
        """
        if self.conn.in_transaction:
            with self._savepoint():
                yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._raise_if_full(exc)
            raise StoreError(f"cannot start a transaction ({exc})") from exc
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite may have rolled back already (it does on SQLITE_FULL in some cases):
            # a second ROLLBACK would hide the real error behind "no transaction is active".
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._raise_if_full(exc)
            raise

    def _raise_if_full(self, exc: BaseException) -> None:
        """Translate "no room to write" into :class:`StoreFullError` (the one place)."""
        detail = _full_detail(exc, self.path)
        if detail is not None:
            raise StoreFullError(self.path, detail) from exc

    def probe_room(self, nbytes: int = PROBE_BYTES) -> None:
        """StoreFullError unless the store can take ``nbytes`` more right now.

        Asks the disk for its free space, then has SQLite allocate that much in a
        transaction that is rolled back (so its page cap answers too); nothing is kept.
        """
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            free = nbytes  # unknown: let SQLite's own answer decide
        if free < max(nbytes, LOW_SPACE_BYTES):
            raise StoreFullError(self.path, f"{free} byte(s) free on its disk")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute("CREATE TABLE printharvest_room_probe (b BLOB)")
                self.conn.execute("INSERT INTO printharvest_room_probe VALUES (zeroblob(?))",
                                  (nbytes,))
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            self._raise_if_full(exc)
            raise StoreError(f"{self.path}: cannot write a probe ({exc})") from exc

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self.conn.execute("SAVEPOINT nested")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO nested")
            self.conn.execute("RELEASE nested")
            raise
        else:
            self.conn.execute("RELEASE nested")

    # -- cases --------------------------------------------------------------------------

    def ensure_case(self, case_key: str) -> tuple[int, bool]:
        """The id of the case with ``case_key``, creating it if needed; True when created."""
        row = self.conn.execute("SELECT id FROM cases WHERE case_key = ?", (case_key,)).fetchone()
        if row:
            return int(row[0]), False
        stamp = now()
        cursor = self.conn.execute(
            "INSERT INTO cases (case_key, registry_id, status, created_at, updated_at)"
            " VALUES (?, ?, 'needs_clinical', ?, ?)",
            (case_key, "PH-" + secrets.token_hex(6).upper(), stamp, stamp),
        )
        return int(cursor.lastrowid or 0), True

    def case_row(self, case_id: int) -> CaseRow:
        """One case's columns; RecordNotFoundError when there is no such case."""
        row = self.conn.execute(
            "SELECT id, case_key, registry_id, status, created_at, updated_at FROM cases"
            " WHERE id = ?", (case_id,)).fetchone()
        if row is None:
            raise RecordNotFoundError(f"there is no case {case_id}")
        return CaseRow(*row)

    def case_rows(self, status: str | None = None) -> list[CaseRow]:
        """Every case (optionally of one status), oldest first."""
        sql = "SELECT id, case_key, registry_id, status, created_at, updated_at FROM cases"
        args: tuple[Any, ...] = ()
        if status:
            sql += " WHERE status = ?"
            args = (status,)
        return [CaseRow(*row) for row in self.conn.execute(sql + " ORDER BY id", args)]

    def touch_case(self, case_id: int) -> None:
        """Mark a case as changed now."""
        self.conn.execute("UPDATE cases SET updated_at = ? WHERE id = ?", (now(), case_id))

    # -- records ------------------------------------------------------------------------

    def has_record(self, sha256: str, index: int) -> bool:
        """True when a record with this content hash and index is already stored."""
        return self.conn.execute("SELECT 1 FROM records WHERE sha256 = ? AND idx = ?",
                                 (sha256, index)).fetchone() is not None

    def insert_record(self, case_id: int, record: HarvestRecord, rule_notes: dict[str, str]) -> int:
        """Store one record in a case (caller checks for duplicates inside its transaction)."""
        source = record.source
        cursor = self.conn.execute(
            "INSERT INTO records (sha256, idx, case_id, kind, connector, connector_version,"
            " path, body, rule_notes, harvested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source.sha256, source.index, case_id, record.kind, source.connector,
             source.connector_version, source.path, record.model_dump_json(),
             json.dumps(rule_notes, sort_keys=True), now()),
        )
        return int(cursor.lastrowid or 0)

    def records_for_case(self, case_id: int) -> list[StoredRecord]:
        """A case's records (its own and those linked to it) in the order they were harvested."""
        rows = self.conn.execute(
            "SELECT id, case_id, body, rule_notes, harvested_at FROM records WHERE case_id = ?"
            " OR id IN (SELECT record_id FROM record_links WHERE case_id = ?)"
            " ORDER BY id", (case_id, case_id))
        return [StoredRecord(row[0], row[1], HarvestRecord.model_validate_json(row[2]),
                             json.loads(row[3]), row[4]) for row in rows]

    def relocate_records(self, old: str, new: str) -> list[int]:
        """Point records read from ``old`` (and from members of a zip at ``old``) at ``new``.

        The watch service calls this after moving an original into the archive, so that
        provenance keeps leading to the file. Returns the cases whose records moved.
        """
        # Members are "OLD!/...": the range from "OLD!/" up to "OLD!0" ('0' follows '/'), a
        # form the path index answers, unlike LIKE (called once per filed file).
        rows = self.conn.execute(
            "SELECT id, case_id, path FROM records WHERE path = ? OR (path >= ? AND path < ?)",
            (old, old + "!/", old + "!0")).fetchall()
        for record_id, _, path in rows:
            moved = new + path[len(old):]
            self.conn.execute(
                "UPDATE records SET path = ?, body = json_set(body, '$.source.path', ?)"
                " WHERE id = ?", (moved, moved, record_id))
        return sorted({case_id for _, case_id, _ in rows})

    def record_count(self) -> int:
        """How many records the store holds."""
        return int(self.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    # -- field values -------------------------------------------------------------------

    def replace_harvested_fields(self, case_id: int, fields: dict[str, FieldValue]) -> None:
        """Replace every harvested value of a case (typed values are untouched)."""
        self.conn.execute("DELETE FROM field_values WHERE case_id = ? AND origin = 'harvest'",
                          (case_id,))
        stamp = now()
        self.conn.executemany(
            "INSERT INTO field_values (case_id, field, origin, value, provenance, updated_at)"
            " VALUES (?, ?, 'harvest', ?, ?, ?)",
            [(case_id, name, json.dumps(fv.value), fv.provenance.model_dump_json(), stamp)
             for name, fv in sorted(fields.items())],
        )

    def set_user_field(self, case_id: int, field: str, value: Any, actor: str) -> None:
        """Store a value the data manager typed (None clears it), with an audit entry."""
        old = self.conn.execute(
            "SELECT value FROM field_values WHERE case_id = ? AND field = ? AND origin = 'user'",
            (case_id, field)).fetchone()
        stamp = now()
        if value is None:
            self.conn.execute(
                "DELETE FROM field_values WHERE case_id = ? AND field = ? AND origin = 'user'",
                (case_id, field))
        else:
            provenance = Provenance(origin="user", actor=actor, at=stamp)
            self.conn.execute(
                "INSERT INTO field_values (case_id, field, origin, value, provenance, updated_at)"
                " VALUES (?, ?, 'user', ?, ?, ?) ON CONFLICT (case_id, field, origin)"
                " DO UPDATE SET value = excluded.value, provenance = excluded.provenance,"
                " updated_at = excluded.updated_at",
                (case_id, field, json.dumps(value), provenance.model_dump_json(), stamp))
        self.log(case_id, actor, "set", field, old[0] if old else None,
                 None if value is None else json.dumps(value))
        self.touch_case(case_id)

    def field_values(self, case_id: int) -> dict[str, dict[str, FieldValue]]:
        """Every stored value of a case: ``{field: {origin: FieldValue}}``."""
        values: dict[str, dict[str, FieldValue]] = {}
        for field, origin, value, provenance in self.conn.execute(
                "SELECT field, origin, value, provenance FROM field_values WHERE case_id = ?",
                (case_id,)):
            values.setdefault(field, {})[origin] = stored_field_value(value, provenance)
        return values

    # -- audit --------------------------------------------------------------------------

    def log(self, case_id: int | None, actor: str, action: str, field: str | None,
            old: str | None, new: str | None) -> None:
        """Append to the audit log."""
        self.conn.execute(
            "INSERT INTO audit (case_id, at, actor, action, field, old, new)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (case_id, now(), actor, action, field, old, new))

    def audit_log(self, case_id: int) -> list[dict[str, Any]]:
        """A case's audit entries, oldest first."""
        rows = self.conn.execute(
            "SELECT at, actor, action, field, old, new FROM audit WHERE case_id = ? ORDER BY id",
            (case_id,))
        keys = ("at", "actor", "action", "field", "old", "new")
        return [dict(zip(keys, row, strict=True)) for row in rows]
