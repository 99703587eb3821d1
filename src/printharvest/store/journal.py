"""The watch journal: every file the inbox service discovers, and what became of it.

A file row walks ``seen -> harvesting -> harvested -> archiving|quarantining ->
archived|quarantined`` (or ``kept`` when originals stay in place). Every step is one
transaction, and a move's destination is written *before* the move, so a service killed at
any moment resumes exactly where it stopped: nothing is harvested twice (records are also
unique by (sha256, index) in the store) and no original is lost.

``outcome`` says what the harvest decided: ``harvested`` (this content was read),
``duplicate`` (the same content was already harvested) or ``failed`` (quarantine).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from printharvest.store.core import Store, now

OPEN_STATES = ("seen", "harvesting", "harvested", "archiving", "quarantining")
"""States of a file still in the inbox's care (at most one open row per path)."""

STUCK_REASON = "left in place: "
"""How the reason of a ``kept`` row starts when the inbox would not let the original go."""
_OPEN_SQL = "state IN (" + ", ".join(f"'{state}'" for state in OPEN_STATES) + ")"
"""The states written out, not bound: SQLite uses the partial index ``watch_files_open``
(whose WHERE clause this matches) only for a literal condition; with bound parameters every
lookup scanned the table, which stalled a backlog of 100,000 files."""

_FILE_COLUMNS = ("id, job_id, inbox, rel_path, size, mtime_ns, sha256, state, outcome,"
                 " attempts, reason, destination, updated_at")


@dataclass(frozen=True)
class FileRow:
    """One journal row."""

    id: int
    job_id: int | None
    inbox: str
    rel_path: str
    size: int
    mtime_ns: int
    sha256: str | None
    state: str
    outcome: str | None
    attempts: int
    reason: str | None
    destination: str | None
    updated_at: str


@dataclass(frozen=True)
class JobRow:
    """One inbox job (a loose file or a job folder taken in one go)."""

    id: int
    inbox: str
    name: str
    state: str
    files: int
    records: int
    duplicates: int
    quarantined: int
    cases: list[int]
    error: str | None
    created_at: str
    finished_at: str | None

    @property
    def shown_state(self) -> str:
        """The state as people read it: a job whose files were only partly quarantined is
        ``partly done`` (the store keeps ``failed``)."""
        if self.state == "failed" and 0 < self.quarantined < self.files:
            return "partly done"
        return self.state


@dataclass(frozen=True)
class ServiceBeat:
    """The last heartbeat of a watch service on this store."""

    pid: int
    started_at: str
    beat_at: str
    stopped_at: str | None


class Journal:
    """Reads and writes the watch journal tables of a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn

    # -- files --------------------------------------------------------------------------

    def _file(self, where: str, args: tuple[Any, ...]) -> FileRow | None:
        row = self.conn.execute(f"SELECT {_FILE_COLUMNS} FROM watch_files WHERE {where}",
                                args).fetchone()
        return FileRow(*row) if row else None

    def file(self, file_id: int) -> FileRow:
        """One row by id."""
        row = self._file("id = ?", (file_id,))
        assert row is not None, file_id
        return row

    def open_file(self, inbox: str, rel_path: str) -> FileRow | None:
        """The open row of a path, if the service is still working on it."""
        return self._file(f"inbox = ? AND rel_path = ? AND {_OPEN_SQL}", (inbox, rel_path))

    def is_kept(self, inbox: str, rel_path: str, size: int, mtime_ns: int, *,
                stuck_only: bool = False) -> bool:
        """True when this very file (same size and mtime) was harvested and left in place;
        with ``stuck_only``, only when it was left because the inbox refused to let it go."""
        stuck = " AND reason LIKE ? || '%'" if stuck_only else ""
        args: tuple[Any, ...] = (inbox, rel_path, size, mtime_ns)
        return self._file("inbox = ? AND rel_path = ? AND size = ? AND mtime_ns = ?"
                          " AND state = 'kept'" + stuck,
                          args + ((STUCK_REASON,) if stuck_only else ())) is not None

    def stuck_files(self) -> list[FileRow]:
        """Files left in place because the inbox would not let them be removed."""
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM watch_files WHERE state = 'kept'"
            " AND reason LIKE ? || '%' ORDER BY id", (STUCK_REASON,))
        return [FileRow(*row) for row in rows]

    def track(self, job_id: int, inbox: str, rel_path: str, size: int, mtime_ns: int) -> FileRow:
        """The open row for a settled file in ``job_id``, created or refreshed.

        A file whose size or mtime differs from its open row has new content: its hash is
        cleared so that it is hashed again.
        """
        with self.store.transaction():
            row = self.open_file(inbox, rel_path)
            stamp = now()
            if row is None:
                cursor = self.conn.execute(
                    "INSERT INTO watch_files (job_id, inbox, rel_path, size, mtime_ns, state,"
                    " first_seen, updated_at) VALUES (?, ?, ?, ?, ?, 'seen', ?, ?)",
                    (job_id, inbox, rel_path, size, mtime_ns, stamp, stamp))
                return self.file(int(cursor.lastrowid or 0))
            changed = (row.size, row.mtime_ns) != (size, mtime_ns)
            self.conn.execute(
                "UPDATE watch_files SET job_id = ?, size = ?, mtime_ns = ?, updated_at = ?,"
                " sha256 = CASE WHEN ? THEN NULL ELSE sha256 END WHERE id = ?",
                (job_id, size, mtime_ns, stamp, changed, row.id))
            return self.file(row.id)

    def set_sha256(self, file_id: int, sha256: str) -> None:
        """Remember a file's content hash."""
        with self.store.transaction():
            self.conn.execute("UPDATE watch_files SET sha256 = ?, updated_at = ? WHERE id = ?",
                              (sha256, now(), file_id))

    def content_verdict(self, sha256: str, exclude: int) -> str | None:
        """What is already known about this content from other rows.

        ``"harvested"`` when it was harvested, ``"busy"`` while another row with it is being
        harvested, else None. Content that failed before is tried again: the file may have
        been put back after a connector for it was installed.
        """
        rows = self.conn.execute(
            "SELECT state, outcome FROM watch_files WHERE sha256 = ? AND id != ?"
            " AND (outcome = 'harvested' OR state = 'harvesting')", (sha256, exclude)).fetchall()
        if any(outcome == "harvested" for _, outcome in rows):
            return "harvested"
        return "busy" if rows else None

    def start_harvest(self, file_ids: list[int]) -> None:
        """Mark files as queued for harvest by this service run."""
        with self.store.transaction():
            self.conn.executemany(
                "UPDATE watch_files SET state = 'harvesting', updated_at = ? WHERE id = ?",
                [(now(), i) for i in file_ids])

    def count_attempt(self, file_ids: list[int]) -> None:
        """Count one more attempt for files now handed to a worker.

        A file whose harvest is interrupted again and again (say, it brings the host down)
        is given up after ``watch.max_attempts``.
        """
        with self.store.transaction():
            self.conn.executemany(
                "UPDATE watch_files SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
                [(now(), i) for i in file_ids])

    def decide(self, decisions: dict[int, tuple[str, str | None]]) -> None:
        """Record each file's outcome (``{id: (outcome, reason)}``) in one transaction."""
        with self.store.transaction():
            self.conn.executemany(
                "UPDATE watch_files SET state = 'harvested', outcome = ?, reason = ?,"
                " updated_at = ? WHERE id = ?",
                [(outcome, reason, now(), i) for i, (outcome, reason) in decisions.items()])

    def plan_move(self, file_id: int, state: str, destination: str | None) -> None:
        """Write where a file is about to go, before it goes there."""
        with self.store.transaction():
            self.conn.execute(
                "UPDATE watch_files SET state = ?, destination = ?, updated_at = ? WHERE id = ?",
                (state, destination, now(), file_id))

    def is_planned(self, destination: str) -> bool:
        """True when a move to ``destination`` is planned but not yet done."""
        return self.conn.execute(
            "SELECT 1 FROM watch_files WHERE destination = ? AND state IN"
            " ('archiving', 'quarantining')", (destination,)).fetchone() is not None

    def finish(self, file_id: int, state: str, reason: str | None = None) -> None:
        """Put a file in a final state (archived, kept, quarantined, changed, vanished)."""
        with self.store.transaction():
            self.conn.execute(
                "UPDATE watch_files SET state = ?, reason = COALESCE(?, reason), updated_at = ?"
                " WHERE id = ?", (state, reason, now(), file_id))

    def files_in(self, states: tuple[str, ...]) -> list[FileRow]:
        """Rows in any of ``states``, oldest first."""
        marks = ",".join("?" * len(states))
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM watch_files WHERE state IN ({marks}) ORDER BY id",
            states)
        return [FileRow(*row) for row in rows]

    def recent_failures(self, limit: int = 10) -> list[FileRow]:
        """The latest files that were quarantined or failed to move."""
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM watch_files WHERE outcome = 'failed'"
            " OR (reason IS NOT NULL AND state NOT IN ('archived', 'kept', 'changed'))"
            " ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,))
        return [FileRow(*row) for row in rows]

    def recent_duplicates(self, limit: int = 10) -> list[FileRow]:
        """The latest files filed as duplicates by content (their reason names the case)."""
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM watch_files WHERE outcome = 'duplicate'"
            " ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,))
        return [FileRow(*row) for row in rows]

    def job_files(self, job_id: int) -> list[FileRow]:
        """The files of one job, in order."""
        rows = self.conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM watch_files WHERE job_id = ? ORDER BY id", (job_id,))
        return [FileRow(*row) for row in rows]

    # -- jobs ---------------------------------------------------------------------------

    def new_job(self, inbox: str, name: str) -> int:
        """Open a job row for one inbox entry."""
        with self.store.transaction():
            cursor = self.conn.execute(
                "INSERT INTO watch_jobs (inbox, name, state, created_at)"
                " VALUES (?, ?, 'running', ?)",
                (inbox, name, now()))
            return int(cursor.lastrowid or 0)

    def finish_job(self, job_id: int, *, files: int, records: int, duplicates: int,
                   quarantined: int, cases: list[int], error: str | None) -> None:
        """Close a job row with its counts."""
        with self.store.transaction():
            self.conn.execute(
                "UPDATE watch_jobs SET state = ?, files = ?, records = ?, duplicates = ?,"
                " quarantined = ?, cases = ?, error = ?, finished_at = ? WHERE id = ?",
                ("failed" if error else "done", files, records, duplicates, quarantined,
                 json.dumps(sorted(set(cases))), error, now(), job_id))

    def abandon_running_jobs(self) -> int:
        """Close jobs a killed service left running (their files are taken up again)."""
        with self.store.transaction():
            cursor = self.conn.execute(
                "UPDATE watch_jobs SET state = 'failed', error = 'service stopped during the job;"
                " resumed by a later job', finished_at = ? WHERE state = 'running'", (now(),))
            return cursor.rowcount

    def release_jobs(self, keep: set[int], uncount: set[int]) -> int:
        """Give back jobs the service dropped when the store could not write.

        Every job row still ``running`` but not in ``keep`` (the jobs the service holds) lets
        go of its files not yet harvested (they are taken again as a new job, ``seen`` and
        without a job); the attempts counted for ``uncount`` rows are taken back (the file
        was not at fault). A job row left without files goes; one whose files were decided
        already is closed. Returns how many job rows were released.
        """
        with self.store.transaction():
            stamp = now()
            dropped = [int(r[0]) for r in self.conn.execute(
                "SELECT id FROM watch_jobs WHERE state = 'running'") if int(r[0]) not in keep]
            self.conn.executemany(
                "UPDATE watch_files SET attempts = MAX(attempts - 1, 0), updated_at = ?"
                " WHERE id = ?", [(stamp, i) for i in sorted(uncount)])
            for job_id in dropped:
                self.conn.execute(
                    "UPDATE watch_files SET state = 'seen', job_id = NULL, updated_at = ?"
                    " WHERE job_id = ? AND state IN ('seen', 'harvesting')", (stamp, job_id))
                self.conn.execute(
                    "DELETE FROM watch_jobs WHERE id = ? AND NOT EXISTS"
                    " (SELECT 1 FROM watch_files WHERE job_id = ?)", (job_id, job_id))
                self.conn.execute(
                    "UPDATE watch_jobs SET state = 'failed', error = 'the store could not write"
                    " during the job; its files were taken up again', finished_at = ?"
                    " WHERE id = ? AND state = 'running'", (stamp, job_id))
            return len(dropped)

    def recent_jobs(self, limit: int = 10) -> list[JobRow]:
        """The latest jobs, newest first."""
        rows = self.conn.execute(
            "SELECT id, inbox, name, state, files, records, duplicates, quarantined, cases,"
            " error, created_at, finished_at FROM watch_jobs ORDER BY id DESC LIMIT ?", (limit,))
        return [JobRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]), r[9],
                       r[10], r[11]) for r in rows]

    # -- service heartbeat --------------------------------------------------------------

    def beat(self, *, starting: bool = False) -> None:
        """Record that the service (this process) is alive."""
        stamp = now()
        with self.store.transaction():
            if starting:
                self.conn.execute(
                    "INSERT INTO watch_service (id, pid, started_at, beat_at) VALUES (1, ?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at ="
                    " excluded.started_at, beat_at = excluded.beat_at, stopped_at = NULL",
                    (os.getpid(), stamp, stamp))
            else:
                self.conn.execute("UPDATE watch_service SET beat_at = ? WHERE id = 1", (stamp,))

    def stopped(self) -> None:
        """Record a clean stop."""
        with self.store.transaction():
            self.conn.execute("UPDATE watch_service SET stopped_at = ? WHERE id = 1", (now(),))

    def service(self) -> ServiceBeat | None:
        """The last service heartbeat, if a service ever ran on this store."""
        row = self.conn.execute(
            "SELECT pid, started_at, beat_at, stopped_at FROM watch_service WHERE id = 1"
        ).fetchone()
        return ServiceBeat(*row) if row else None
