"""One inbox job from settled files to archived originals, step by journalled step.

:class:`JobRunner` prepares a job (hash, dedupe by content, journal rows), turns worker
replies into stored records, decides each file's fate, and moves originals into the archive
or quarantine. It also finishes what a killed service left half done (:meth:`recover`).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from printharvest.app import App
from printharvest.cases.service import IngestReport
from printharvest.connectors.dicom.series import record_from_json
from printharvest.exceptions import ArchiveError, PrintharvestError, StoreFullError
from printharvest.harvest.harvester import HarvestedRecord
from printharvest.store.journal import STUCK_REASON, FileRow, Journal
from printharvest.watch.mover import (
    DiskFull,
    SourceStuck,
    lets_go,
    prune_empty,
    resume_move,
    write_reason,
)
from printharvest.watch.scan import Snapshot, free_name, sha256_of
from printharvest.watch.worker import TaskResult

log = logging.getLogger("printharvest.watch")

STUCK_PROBES = 8
"""Folders that would not let originals go, probed again per retry (the longest unprobed
first): a share with thousands of job folders costs a few empty files per retry."""


@dataclass
class Job:
    """A job in flight: its journal rows and what has been decided so far."""

    id: int
    inbox: Path
    name: str
    rows: dict[int, FileRow]
    harvest: list[FileRow]
    duplicate_of: dict[int, int] = field(default_factory=dict)
    decisions: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    pending: int = 0
    attempted: set[int] = field(default_factory=set)
    """Rows whose attempt this run counted (taken back if the store drops the job)."""
    records: int = 0
    cases: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    connectors: set[str] = field(default_factory=set)


@dataclass
class JobSummary:
    """What a finished job did, for the terminal line and the exit code."""

    name: str
    files: int
    records: int
    duplicates: int
    quarantined: list[tuple[str, str]]
    cases: list[int]


class Deferred(Exception):
    """The job cannot be taken yet (its content is being harvested by another job, or an
    earlier job goes first): try again shortly."""


class Hashing(Deferred):
    """Some of the job's files are still being hashed (in the hashing threads)."""


def _hash_settled(path: Path, size: int, mtime: int) -> str:
    """sha256 of a settled file; OSError when it changed while being read."""
    sha = sha256_of(path)
    st = path.stat()
    if (st.st_size, st.st_mtime_ns) != (size, mtime):
        raise OSError(f"{path}: changed while being read")
    return sha


class JobRunner:
    """Prepares, completes and files away inbox jobs."""

    def __init__(self, app: App, journal: Journal,
                 wake: Callable[[], None] | None = None, hashers: int = 2) -> None:
        self.app = app
        self.journal = journal
        self.keep = app.home.config.archive_mode == "keep"
        self.max_attempts = app.home.config.watch.max_attempts
        self._hashes: dict[tuple[str, str], tuple[int, int, str]] = {}
        # Hashing runs in threads, never on the service's loop: a 5 GB file takes half a
        # minute. ``wake`` ends the loop's wait when a hash is ready. The service starts as
        # many hashing threads as harvest workers.
        self._hashing: dict[tuple[str, str], tuple[int, int, Future[str]]] = {}
        self._hasher = ThreadPoolExecutor(max_workers=max(1, hashers), thread_name_prefix="hash")
        self._wake = wake
        self._folders_moved: set[tuple[str, str]] = set()
        self._stuck_said: set[Path] = set()
        self._stuck_probed: dict[Path, int] = {}  # folder -> retry round it was last probed
        self._round = 0
        self.disk_full: Path | None = None
        """Where the last move found no space (None once a retry went through)."""

    def reconfigure(self) -> None:
        """Take the settings again after the configuration was reloaded."""
        self.keep = self.app.home.config.archive_mode == "keep"
        self.max_attempts = self.app.home.config.watch.max_attempts

    # -- preparing ----------------------------------------------------------------------

    def prepare(self, inbox: Path, name: str, snap: Snapshot, *,
                hold: bool = False) -> Job | None:
        """Journal a settled entry as a job; None when nothing in it needs work.

        Raises :class:`Hashing` while its files are being hashed, :class:`Deferred` when its
        content is being harvested by another job (or ``hold``: its hashes are started, but an
        earlier job is taken first), and OSError when a file changed or vanished while being
        hashed (the entry settles again).
        """
        key = str(inbox)
        work: list[tuple[str, int, int, str | None]] = []
        for rel, (size, mtime) in sorted(snap.items()):
            if self.journal.is_kept(key, rel, size, mtime, stuck_only=not self.keep):
                continue  # left in place (by choice, or because the inbox would not let go)
            row = self.journal.open_file(key, rel)
            if row is not None and row.state not in ("seen", "harvesting") \
                    and (row.size, row.mtime_ns) == (size, mtime):
                continue  # already read; filing it away is :meth:`recover`'s work
            work.append((rel, size, mtime, self._hash(inbox, rel, size, mtime)))
        if not work:
            return None
        if any(sha is None for *_, sha in work):
            raise Hashing("being hashed")  # taken when the hashing threads are done
        if hold:
            raise Deferred("an earlier job is taken first")
        ready = [(rel, size, mtime, sha) for rel, size, mtime, sha in work if sha is not None]
        for rel, _, _, sha in ready:
            row = self.journal.open_file(key, rel)
            if self.journal.content_verdict(sha, row.id if row else -1) == "busy":
                raise Deferred(rel)
        job = Job(self.journal.new_job(key, name), inbox, name, {}, [])
        first_of: dict[str, int] = {}
        for rel, size, mtime, sha in ready:
            row = self.journal.track(job.id, key, rel, size, mtime)
            if row.sha256 != sha:
                self.journal.set_sha256(row.id, sha)
                row = self.journal.file(row.id)
            job.rows[row.id] = row
            self._hashes.pop((key, rel), None)  # the journal row holds it from now on
            verdict = self.journal.content_verdict(sha, row.id)
            if row.attempts >= self.max_attempts:
                job.decisions[row.id] = ("failed", f"harvest was interrupted {row.attempts} times;"
                                         " given up")
            elif verdict == "harvested":
                job.decisions[row.id] = ("duplicate", None)
            elif sha in first_of:
                job.duplicate_of[row.id] = first_of[sha]
            else:
                first_of[sha] = row.id
                job.harvest.append(row)
        if job.harvest:
            self.journal.start_harvest([r.id for r in job.harvest])
        return job

    def _hash(self, inbox: Path, rel: str, size: int, mtime: int) -> str | None:
        """The file's sha256, or None while a hashing thread is still reading it.

        Raises the OSError of a file that changed or vanished while being hashed.
        """
        key = (str(inbox), rel)
        cached = self._hashes.get(key)
        if cached and cached[:2] == (size, mtime):
            return cached[2]
        row = self.journal.open_file(str(inbox), rel)
        if row and row.sha256 and (row.size, row.mtime_ns) == (size, mtime):
            return row.sha256
        running = self._hashing.get(key)
        if running is not None and running[:2] == (size, mtime):
            future = running[2]
            if not future.done():
                return None
            del self._hashing[key]
            sha = future.result()  # raises what the thread raised
            self._hashes[key] = (size, mtime, sha)
            return sha
        future = self._hasher.submit(_hash_settled, inbox / rel, size, mtime)
        self._hashing[key] = (size, mtime, future)
        if self._wake is not None:
            wake = self._wake
            future.add_done_callback(lambda _f: wake())
        return None

    def known(self, job: Job) -> dict[str, tuple[int, int, str]]:
        """(size, mtime_ns, sha256) of the job's files to harvest, for the workers' probes."""
        return {str(job.inbox / row.rel_path): (row.size, row.mtime_ns, row.sha256)
                for row in job.harvest if row.sha256}

    def close(self) -> None:
        """Stop the hashing threads (a file being hashed is read to its end first)."""
        for _, _, future in self._hashing.values():
            future.cancel()
        self._hasher.shutdown(wait=True)
        self._hashing.clear()

    # -- results ------------------------------------------------------------------------

    def absorb(self, job: Job, result: TaskResult) -> None:
        """Store the records of a finished task and decide the fate of its files."""
        by_path = {str(job.inbox / r.rel_path): r for r in job.harvest}
        task_rows = [by_path[str(p)] for p in result.task.files if str(p) in by_path]
        if result.fatal is not None:
            for row in task_rows:
                job.decisions[row.id] = ("failed", result.fatal)
            log.warning("job %s: %s", job.name, result.fatal)
            return
        with_records: set[int] = set()
        report = IngestReport()
        for item in result.reply.get("items", []):
            origin = by_path.get(str(item["record"]["source"]["path"]).split("!/")[0])
            try:
                record = record_from_json(item["record"], item.get("series_keys"))
                self.app.cases.ingest_one(HarvestedRecord(record, item.get("rule_notes", {}),
                                                          list(item.get("contents") or [])),
                                          report, "watch")
            except StoreFullError:
                raise  # not the file's fault: the job is taken again once the store has room
            except (PrintharvestError, ValueError) as exc:
                if origin is not None:
                    job.decisions[origin.id] = ("failed", f"cannot store its record ({exc})")
                continue
            if origin is not None:
                with_records.add(origin.id)
            job.connectors.add(record.source.connector)
        job.records += report.new_records
        job.cases.extend(report.new_cases + report.updated_cases)
        errors: dict[int, list[str]] = {}
        for error in result.reply.get("errors", []):
            origin = by_path.get(str(error.get("path", "")).split("!/")[0])
            if origin is None:
                job.notes.append(str(error.get("reason")))
                continue
            errors.setdefault(origin.id, []).append(str(error.get("reason")))
        for row in task_rows:
            if row.id in job.decisions:
                continue
            if row.id not in with_records and row.id in errors:
                job.decisions[row.id] = ("failed", "; ".join(dict.fromkeys(errors[row.id])))
            else:
                job.decisions[row.id] = ("harvested", None)
                for reason in errors.get(row.id, []):
                    log.info("job %s: %s: %s", job.name, row.rel_path, reason)

    # -- finishing ----------------------------------------------------------------------

    def finish(self, job: Job) -> JobSummary:
        """Record every decision, move the originals, and close the job row."""
        self._folders_moved.clear()  # folders are relocated once per job
        for dup, first in job.duplicate_of.items():
            outcome, reason = job.decisions.get(first, ("harvested", None))
            if outcome == "failed":
                job.decisions[dup] = ("failed", f"same content as a file that failed: {reason}")
            else:
                job.decisions[dup] = ("duplicate", None)
        for row_id, (outcome, _) in list(job.decisions.items()):
            if outcome == "duplicate":
                job.decisions[row_id] = ("duplicate", self._link_duplicate(job, row_id))
        self.journal.decide(job.decisions)
        quarantined: list[tuple[str, str]] = []
        for row_id in sorted(job.rows):
            row = self.journal.file(row_id)
            self.settle(row)
            if row.outcome == "failed":
                quarantined.append((row.rel_path, row.reason or "could not be read"))
        if not self.keep:
            prune_empty(job.inbox / job.name, job.inbox)
        duplicates = sum(1 for o, _ in job.decisions.values() if o == "duplicate")
        error = f"{len(quarantined)} file(s) quarantined" if quarantined else None
        self.journal.finish_job(job.id, files=len(job.rows), records=job.records,
                                duplicates=duplicates, quarantined=len(quarantined),
                                cases=job.cases, error=error)
        return JobSummary(job.name, len(job.rows), job.records, duplicates, quarantined,
                          sorted(set(job.cases)))

    def _link_duplicate(self, job: Job, row_id: int) -> str | None:
        """A file whose content was harvested before belongs to this job's case as well: link
        the records read from it to that case, and say which case(s) the content is in."""
        row = job.rows[row_id]
        if not row.sha256:
            return None
        key, _ = self.app.rules.case_key(tuple(row.rel_path.split("/")))
        try:
            cases = self.app.cases.link_content(row.sha256, key, "watch")
        except StoreFullError:
            raise
        except PrintharvestError as exc:
            log.warning("job %s: %s: cannot link it to its case (%s)", job.name, row.rel_path,
                        exc)
            return None
        if not cases:
            return None
        job.cases.extend(cases)
        return "same content as in case " + ", ".join(map(str, cases))

    def settle(self, row: FileRow) -> None:
        """Put one decided file where it belongs: archive, quarantine, or left in place."""
        inbox = Path(row.inbox)
        src = inbox / row.rel_path
        try:
            st = src.stat()
        except OSError:
            self.journal.finish(row.id, "vanished", "the file was taken out of the inbox")
            log.warning("%s: gone from the inbox before it was filed", src)
            return
        if (st.st_size, st.st_mtime_ns) != (row.size, row.mtime_ns):
            # New content arrived under the same name: it is a new job; this row is done.
            self.journal.finish(row.id, "changed", "changed after it was read; read again")
            return
        failed = row.outcome == "failed"
        if not failed and self.keep:
            self.journal.finish(row.id, "kept")
            return
        for _ in range(3):  # a fresh name if the planned one is taken meanwhile
            if failed:
                dest = free_name(self.app.home.quarantine / row.rel_path, self._planned)
            else:
                month = datetime.now().strftime("%Y/%m")
                dest = free_name(self.app.home.archive / month / row.rel_path, self._planned)
            self.journal.plan_move(row.id, "quarantining" if failed else "archiving", str(dest))
            if not self._move(self.journal.file(row.id), src, dest):
                return

    def _planned(self, path: Path) -> bool:
        return self.journal.is_planned(str(path))

    def _move(self, row: FileRow, src: Path, dest: Path) -> bool:
        """Carry out a planned move; True when a new destination must be chosen."""
        failed = row.state == "quarantining"
        try:
            done = resume_move(src, dest)
            if done and failed:
                # After the move: the name is ours now, so no other file's reason is touched.
                write_reason(dest, row.reason or "could not be read")
        except SourceStuck as exc:
            # Not copied again: the original stays, harvested, and the row is closed.
            self.journal.finish(row.id, "kept", f"{STUCK_REASON}{exc}")
            if exc.folder not in self._stuck_said:
                self._stuck_said.add(exc.folder)
                log.error("%s: the inbox will not let originals go (read-only?); they are"
                          " harvested and left in place", exc.folder)
            return False
        except DiskFull as exc:
            self.disk_full = exc.where  # the row stays planned; :meth:`recover` retries it
            return False
        except ArchiveError as exc:
            log.error("%s: %s; choosing another name", src, exc)
            self.journal.plan_move(row.id, "harvested", None)
            return True
        except OSError as exc:
            if exc.errno == errno.ENOSPC:  # e.g. the quarantine's reason file
                self.disk_full = dest.parent
                return False
            log.error("%s: cannot file it away (%s); will retry", src, exc)
            return False
        if not done:
            self.journal.finish(row.id, "vanished", "the file was taken out of the inbox")
            return False
        self.journal.finish(row.id, "quarantined" if failed else "archived")
        if not failed:
            self.app.cases.relocate(str(src), str(dest), "watch")
            self._relocate_folders(row, src, dest)
        log.info("%s -> %s%s", src, dest, f" ({row.reason})" if failed else "")
        return False

    def _relocate_folders(self, row: FileRow, src: Path, dest: Path) -> None:
        """A record read from a whole folder (a DICOM series) names the folder: once its
        files are archived, its provenance leads to the archived folder."""
        depth = len(Path(row.rel_path).parts) - 1
        old, new = src.parent, dest.parent
        for _ in range(depth):
            if (str(old), str(new)) not in self._folders_moved:
                self._folders_moved.add((str(old), str(new)))
                self.app.cases.relocate(str(old), str(new), "watch")
            old, new = old.parent, new.parent

    def recover(self, busy: set[int]) -> None:
        """Finish moves and decisions a stopped service left behind (rows not in ``busy``).

        Also the probe of a full disk: :attr:`disk_full` is cleared, and set again when a
        move still finds no space.
        """
        self.disk_full = None
        for row in self.journal.files_in(("harvested", "archiving", "quarantining")):
            if row.id in busy:
                continue
            if row.state == "harvested":
                self.settle(row)
            elif row.destination and self._move(row, Path(row.inbox) / row.rel_path,
                                                Path(row.destination)):
                self.settle(self.journal.file(row.id))
        self._retry_stuck()

    def _retry_stuck(self) -> None:
        """File the originals an inbox would not let go, once it does (a read-only share made
        writable again). A folder is probed first (:func:`lets_go`, nothing copied), a few
        folders per retry; one still refusing is said nothing more of."""
        folders: dict[Path, list[FileRow]] = {}
        for row in self.journal.stuck_files():
            src = Path(row.inbox) / row.rel_path
            try:
                st = src.stat()
            except OSError:
                continue  # taken away: left as it was recorded
            if (st.st_size, st.st_mtime_ns) == (row.size, row.mtime_ns):
                folders.setdefault(src.parent, []).append(row)
        self._round += 1
        self._stuck_probed = {f: n for f, n in self._stuck_probed.items() if f in folders}
        due = sorted(folders, key=lambda f: (self._stuck_probed.get(f, 0), str(f)))
        for folder in due[:STUCK_PROBES]:
            self._stuck_probed[folder] = self._round
            if self.disk_full is not None or not lets_go(folder):
                continue
            self._stuck_said.discard(folder)  # said again should it refuse once more
            for row in folders[folder]:
                self.settle(row)
                if self.disk_full is not None:
                    break
            filed = sum(1 for row in folders[folder]
                        if self.journal.file(row.id).state in ("archived", "quarantined"))
            log.info("%s: the inbox lets originals go again; %d kept file(s) filed", folder,
                     filed)
            if not self.keep:
                inbox = Path(folders[folder][0].inbox)
                top = inbox / Path(folders[folder][0].rel_path).parts[0]
                prune_empty(top, inbox)

    def reset_interrupted(self) -> None:
        """At start: harvests a killed service left running are to be done again."""
        for row in self.journal.files_in(("harvesting", "seen")):
            if not (Path(row.inbox) / row.rel_path).is_file():
                self.journal.finish(row.id, "vanished", "the file was taken out of the inbox")
            elif row.state == "harvesting":
                self.journal.plan_move(row.id, "seen", None)
