"""The inbox service behind ``printharvest watch``.

One main thread owns the store and the journal (files are hashed in threads of
:class:`JobRunner`, which touch neither). Watchdog (native or polling observer) only
tells it *which* top-level entries changed; the main loop looks at them itself, takes an
entry once it is complete, hands its files to the worker pool, and files the originals away
when the answer comes back. A full re-listing at start (the backlog) and every
``watch.rescan_seconds`` covers events that were never delivered (network shares, a service
that was down).

Periodic tasks (the printer pollers, for instance) plug into the same loop::

    service.add_periodic("pollers", 5.0, PollerService(app).run_due)

where the callable receives the wall-clock time (``time.time()``) and is guarded: an error
is logged and the loop goes on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from printharvest.app import App
from printharvest.exceptions import ConfigError, StoreFullError
from printharvest.store.journal import Journal
from printharvest.watch import scan
from printharvest.watch.completeness import missing_end
from printharvest.watch.display import Reporter
from printharvest.watch.job_runner import Deferred, Hashing, Job, JobRunner, JobSummary
from printharvest.watch.reload import CHECK_SECONDS, fingerprint, take_snapshot
from printharvest.watch.scan import Snapshot, snapshot, top_entries, top_name
from printharvest.watch.worker import Task, WorkerPool, clean_scratch

log = logging.getLogger("printharvest.watch")

BEAT_SECONDS = 5.0
RECOVER_SECONDS = 30.0
IGNORED_EVENTS = {"opened", "closed_no_write"}
PAUSED_NAME = "watch.paused"
"""A file in the home holding the service's pause line while a disk is full (for status)."""
PROGRESS_EVERY = 1000
"""A progress line in the log every this many files taken (a backlog of 100,000 files)."""


@dataclass
class PeriodicTask:
    """A callable run every ``interval`` seconds from the service loop."""

    name: str
    interval: float
    run: Callable[[float], object]
    due: float = 0.0


@dataclass
class Entry:
    """A top-level inbox entry the service is looking at."""

    inbox: Path
    name: str
    snap: Snapshot | None = None
    since: float = 0.0
    closed: Snapshot | None = None
    closed_at: float = 0.0
    busy: bool = False
    recheck: bool = False
    warned: bool = False
    incomplete_since: float | None = None
    """When a settled file of the entry was first seen without its format's end marker."""


@dataclass
class RunStats:
    """Counts for one run of the service."""

    jobs: int = 0
    records: int = 0
    quarantined: int = 0
    summaries: deque[JobSummary] = field(default_factory=lambda: deque(maxlen=200))
    """The latest jobs (bounded: the service runs for months)."""


class WatchService:
    """Watches the inboxes and turns settled jobs into cases."""

    def __init__(self, app: App, reporter: Reporter | None = None, *,
                 workers: int | None = None) -> None:
        self.app = app
        config = app.home.config
        self.settle = config.settle_seconds
        self.settings = config.watch
        # ``workers`` overrides the configuration for this run, reloads included (the demo
        # runs one, so its jobs become cases in inbox order).
        self._workers = workers
        size = workers or self.settings.workers
        self.inboxes = [p.resolve() for p in app.home.inboxes]
        self.journal = Journal(app.store)
        self.runner = JobRunner(app, self.journal, wake=lambda: self.pool.wake(),
                                hashers=size)
        self.reporter = reporter or Reporter(None)
        self.pool = WorkerPool(app.home.root, size, config.harvest_timeout_seconds)
        self.entries: dict[tuple[Path, str], Entry] = {}
        self.tasks: deque[Task] = deque()
        self.periodic: list[PeriodicTask] = []
        self.stats = RunStats()
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stop = False
        self._lock: IO[str] | None = None
        self._running: dict[int, Job] = {}
        self._problem: str | None = None
        self._once = False
        self._paused: Path | None = None
        self._store_full: Path | None = None
        """The store, while it cannot write (no room): jobs wait in the inbox meanwhile."""
        self._uncount: set[int] = set()  # attempts of dropped jobs, taken back on resume
        self._start_pending = False  # the start's journal writes, when the store was full
        self._ends: dict[tuple[str, str, int, int], str | None] = {}
        self._taken = 0  # files taken this run, for the progress line
        self._due = 0.0  # when the nearest entry seen by the last look may be settled
        self._gone: list[tuple[Path, str]] = []  # entries to forget after the look's walk
        self.tick = max(0.02, min(0.2, self.settle / 4))
        scan.NOTICES.callback = self._notice
        scan.NOTICES.said.clear()  # each run says each skipped name once
        self.add_periodic("heartbeat", BEAT_SECONDS, lambda _now: self.journal.beat())
        self.add_periodic("retry filing", RECOVER_SECONDS, lambda _now: self._recover())
        self.add_periodic("rescan", self.settings.rescan_seconds, lambda _now: self._rescan())
        self._fingerprint = fingerprint(app.home.root)
        self._reload_asked = False
        self.add_periodic("rules", CHECK_SECONDS, lambda _now: self._check_rules())

    def _notice(self, text: str) -> None:
        """A name the inbox holds but no job takes (a link, a name not UTF-8): said once."""
        log.warning("%s", text)
        self.reporter.problem(text)

    def add_periodic(self, name: str, interval: float, run: Callable[[float], object]) -> None:
        """Run ``run(time.time())`` every ``interval`` seconds inside the service loop."""
        self.periodic.append(PeriodicTask(name, interval, run, time.monotonic() + interval))

    def stop(self) -> None:
        """Ask the loop to end after the current step (signal handlers call this)."""
        self._stop = True

    def ask_reload(self) -> None:
        """Reload rules and configuration at the next step (the SIGHUP handler calls this)."""
        self._reload_asked = True
        self.pool.wake()

    def _check_rules(self) -> None:
        current = fingerprint(self.app.home.root)
        if current != self._fingerprint:
            self._fingerprint = current
            self.reload("rules or configuration changed")

    def reload(self, why: str) -> bool:
        """Load the rules and configuration again; on an error keep the current ones.

        Harvest workers are recycled (idle ones now, busy ones after their task), so every
        job taken from now on is read with the new rules. True when the new ones are in use.
        """
        self._fingerprint = fingerprint(self.app.home.root)
        try:
            home, snapshot = take_snapshot(self.app.home.root)
        except ConfigError as exc:
            log.error("rules not reloaded (%s): %s; still using the previous ones", why, exc)
            self.reporter.problem(f"rules not reloaded: {exc}")
            return False
        self.app.reload(home)
        # Loaded now, from the checked copy: nothing reads the lab's files again later.
        _ = (self.app.rules, self.app.anatomy, self.app.dictionary, self.app.cases)
        self.pool.snapshot = snapshot
        self.settle = home.config.settle_seconds
        self.settings = home.config.watch
        self.tick = max(0.02, min(0.2, self.settle / 4))
        self.runner.reconfigure()
        self.pool.timeout = home.config.harvest_timeout_seconds
        self.pool.size = self._workers or self.settings.workers
        self.pool.recycle()
        self._ends.clear()
        log.info("rules and configuration reloaded (%s)", why)
        return True

    # -- the loop -----------------------------------------------------------------------

    def run(self, *, once: bool = False) -> RunStats:
        """Process the backlog, then watch (or, with ``once``, return when it is done)."""
        self._take_lock()
        clean_scratch(self.app.home.root)  # what killed workers of an earlier run left
        with contextlib.suppress(OSError):  # an earlier run's pause is that run's
            (self.app.home.root / PAUSED_NAME).unlink()
        self._once = once
        observer = None
        try:
            self.reload("start")  # workers read a checked copy of the rules from now on
            self.pool.idle()  # start the workers now: they load connectors meanwhile
            try:
                self._start_journal()
                self._recover()
            except StoreFullError as exc:  # starts paused; the retry does the rest
                self._start_pending = True
                self._store_cannot_write(exc)
                self._check_paused()
            if not once:
                observer = self._observe()
            self._rescan()
            log.info("watching %s (settle %.2f s, %d worker(s))",
                     ", ".join(map(str, self.inboxes)), self.settle, self.pool.size)
            while not self._stop:
                self._step()
                if once and not self.tasks and not self._running \
                        and (not self.entries or self._paused is not None):
                    break
        finally:
            if observer is not None:
                observer.stop()
                observer.join(timeout=5)
            self.pool.close()
            self.runner.close()
            if self._store_full is not None:
                # Stopped while paused (``--once``): give the dropped jobs back now if the
                # store lets us, so their attempts do not count; else the next start closes
                # them.
                with contextlib.suppress(Exception):
                    self.journal.release_jobs(set(self._running), self._uncount)
            with contextlib.suppress(Exception):
                self.journal.stopped()
            log.info("stopped (%d job(s) this run)", self.stats.jobs)
            self.reporter.close()
            self._release_lock()
        return self.stats

    def _step(self) -> None:
        if self._reload_asked:
            self._reload_asked = False
            self.reload("SIGHUP")
        self._drain_events()
        try:
            self._look()
        except StoreFullError as exc:  # journalling a job: it stays in the inbox meanwhile
            self._store_cannot_write(exc)
        self._dispatch()
        for result in self.pool.poll(self._wait()):
            job: Job = result.task.job
            self._complete(job, result)
        self._dispatch()
        now = time.monotonic()
        for task in self.periodic:
            if now >= task.due:
                task.due = now + task.interval
                try:
                    task.run(time.time())
                except StoreFullError as exc:  # said once, by the pause
                    self._store_cannot_write(exc)
                except Exception as exc:  # a periodic task must never stop the service
                    log.error("periodic task %s failed: %s: %s", task.name,
                              type(exc).__name__, exc)
        self._check_paused()
        if self.pool.problem != self._problem:
            self._problem = self.pool.problem
            if self._problem:
                log.error("%s", self._problem)
                self.reporter.problem(self._problem)

    def _check_paused(self) -> None:
        """Say once when filing found the disk full, or the store could not write (harvesting
        pauses), and when it resumes.

        The retry is the periodic "retry filing" pass: its moves (and, for the store, a write
        probe) are the probe for space.
        """
        full = self._store_full or self.runner.disk_full
        if full == self._paused:
            return
        marker = self.app.home.root / PAUSED_NAME
        if full is not None:
            line = (f"paused: the store cannot write (disk full) at {full}"
                    if full == self._store_full else f"paused: disk full at {full}")
            log.error("%s; harvesting resumes when space returns (retried every %.0f s)",
                      line, RECOVER_SECONDS)
            self.reporter.problem(line)
            with contextlib.suppress(OSError):  # best effort: the disk may be this one
                marker.write_text(line + "\n", encoding="utf-8")
        else:
            log.info("resumed: space is back at %s", self._paused)
            self.reporter.problem(f"resumed: space is back at {self._paused}")
            with contextlib.suppress(OSError):
                marker.unlink()
        self._paused = full

    def _wait(self) -> float:
        """How long the loop may sleep: until the next entry could be due, at most a tick.

        Only deadlines still ahead count (:meth:`_look` notes the nearest): an entry past its
        deadline that was not taken (deferred, unreadable, incomplete) is looked at again at
        the tick, without spinning.
        """
        return max(0.0, min(self.tick, self._due - time.monotonic()))

    # -- discovering ----------------------------------------------------------------------

    def _observe(self) -> Any:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        events, pool = self._events, self.pool

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                events.put(event)
                if event.event_type not in IGNORED_EVENTS:
                    pool.wake()

        # watchdog logs a harmless error when its inotify thread is stopped mid-read.
        logging.getLogger("watchdog.observers.inotify").setLevel(logging.CRITICAL)
        polling = self.settings.observer == "polling"
        while True:
            observer: Any = (PollingObserver(timeout=self.settings.poll_interval) if polling
                             else Observer())
            try:
                for inbox in self.inboxes:
                    if inbox.is_dir():
                        observer.schedule(Handler(), str(inbox), recursive=True)
                    else:
                        log.warning("%s: inbox folder missing; looked at on rescans only", inbox)
                observer.start()
                return observer
            except OSError as exc:
                if polling:
                    raise
                # e.g. the inotify watch limit: polling still works, only slower.
                log.warning("native file events unavailable (%s); polling instead",
                            exc.strerror or exc)
                with contextlib.suppress(Exception):
                    observer.stop()
                polling = True

    def _drain_events(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            if event.event_type in IGNORED_EVENTS:
                continue
            for path in (event.src_path, getattr(event, "dest_path", "")):
                if path:
                    self._touch(os.fsdecode(path), event)

    def _touch(self, path: str, event: Any) -> None:
        for inbox in self.inboxes:
            name = top_name(inbox, path)
            if name is None:
                continue
            entry = self._mark(inbox, name)
            if event.event_type == "closed" and not event.is_directory:
                loose = os.path.abspath(path) == str(inbox / name)
                entry.closed = snapshot(inbox, name) if loose else None
                entry.closed_at = time.monotonic()
            elif event.event_type in ("modified", "created") and not event.is_directory:
                entry.closed = None
            return

    def _mark(self, inbox: Path, name: str) -> Entry:
        key = (inbox, name)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = Entry(inbox, name, since=time.monotonic())
        elif entry.busy:
            entry.recheck = True
        return entry

    def _rescan(self) -> None:
        for inbox in self.inboxes:
            for name in top_entries(inbox):
                self._mark(inbox, name)

    def _look(self) -> None:
        now = time.monotonic()
        self._due = now + self.tick
        # The entries are walked in place, not copied (copying 100,000 takes milliseconds,
        # on every pass): the ones that went away are forgotten after the walk.
        try:
            self._walk(now)
        finally:
            for key in self._gone:
                self.entries.pop(key, None)
            self._gone.clear()

    def _walk(self, now: float) -> None:
        # ``--once`` takes a batch in the order it was found (cases are numbered in inbox
        # order, the same on every run): a job whose files are still being hashed holds back
        # the jobs after it, whose hashes start meanwhile. The service does not: a small job
        # dropped while a 5 GB file is hashed is filed at once.
        hold = False
        ahead = 0  # jobs whose hashes are started but not done: prepared ahead, like tasks
        for key, entry in self.entries.items():
            if entry.busy:
                continue
            snap = snapshot(entry.inbox, entry.name)
            if not snap:
                self._gone.append(key)
                continue
            # Complete = unchanged for the settle time, closed or not: a network copy or a
            # tool that writes, closes and reopens a file closes it several times.
            if snap != entry.snap:
                entry.snap, entry.since = snap, now
                entry.incomplete_since = None
                self._due = min(self._due, now + self.settle)
                continue
            if now - entry.since < self.settle:
                self._due = min(self._due, entry.since + self.settle)
                continue
            if self._paused is not None:
                break  # a disk is full: nothing new is taken until writing goes through again
            if not self._incomplete(entry, snap, now):
                if self._queue_full(ahead):
                    # A backlog streams: the rest is looked at once the workers catch up, so
                    # a pass costs the same with 100 or 100,000 files waiting. An entry left
                    # unlooked stays settled if it is unchanged when its turn comes.
                    break
                waiting = self._take(entry, snap, hold)
                ahead += 1 if waiting else 0
                hold = waiting and self._once

    def _queue_full(self, ahead: int) -> bool:
        """True while enough jobs wait for a worker (queued, or ``ahead``: being hashed): a
        backlog is prepared a few jobs at a time, each dispatched as soon as it is ready, not
        all of it hashed and journalled before the first."""
        return len(self.tasks) + ahead >= 2 * self.pool.size

    def _incomplete(self, entry: Entry, snap: Snapshot, now: float) -> bool:
        """True while a settled file lacks its format's end marker and the bounded wait for
        it (``watch.incomplete_wait_seconds``) is not over; after that it is taken anyway,
        with a warning (``watch --once`` does not wait: the file is as whole as it gets)."""
        missing = [(rel, reason) for rel in sorted(snap)
                   if (reason := self._missing_end(entry.inbox, rel, snap[rel])) is not None]
        if not missing:
            return False
        if entry.incomplete_since is None:
            entry.incomplete_since = now
            if not self._once and self.settings.incomplete_wait_seconds > 0:
                log.info("%s: %s; waiting up to %.0f s for the rest", missing[0][0],
                         missing[0][1], self.settings.incomplete_wait_seconds)
        if (not self._once
                and now - entry.incomplete_since < self.settings.incomplete_wait_seconds):
            return True
        for rel, reason in missing:
            log.warning("%s: %s; harvested as it is (it may be incomplete)", rel, reason)
        return False

    def _missing_end(self, inbox: Path, rel: str, stat: tuple[int, int]) -> str | None:
        key = (str(inbox), rel, *stat)
        if key not in self._ends:
            if len(self._ends) > 10_000:  # bounded: the service runs for months
                self._ends.clear()
            self._ends[key] = missing_end(inbox / rel)
        return self._ends[key]

    def _take(self, entry: Entry, snap: Snapshot, hold: bool) -> bool:
        """Take the entry as a job if it can be; True while its files (or, with ``hold``,
        an earlier job's) are still being hashed."""
        try:
            job = self.runner.prepare(entry.inbox, entry.name, snap, hold=hold)
        except Hashing:
            return True
        except Deferred:
            return hold
        except OSError as exc:
            # Changed while being hashed (settles again), or unreadable (say so once).
            if not str(exc).endswith("changed while being read"):
                if not entry.warned:
                    log.warning("%s/%s: cannot read it yet (%s)", entry.inbox, entry.name,
                                getattr(exc, "strerror", None) or exc)
                    entry.warned = True
                if self._once:  # leave it for the next run rather than wait forever
                    self._gone.append((entry.inbox, entry.name))
                    return hold
            entry.snap, entry.since = None, time.monotonic()
            return hold
        if job is None:
            self._gone.append((entry.inbox, entry.name))
            return hold
        entry.busy, entry.recheck = True, False
        self._running[job.id] = job
        self.reporter.started(job.name, len(job.rows))
        before, self._taken = self._taken, self._taken + len(job.rows)
        if self._taken // PROGRESS_EVERY > before // PROGRESS_EVERY:
            waiting = sum(1 for e in self.entries.values() if not e.busy)
            log.info("progress: %d file(s) taken this run, %d entr(ies) waiting", self._taken,
                     waiting)
        log.info("job %s: %d file(s) settled, %d to harvest", job.name, len(job.rows),
                 len(job.harvest))
        if job.harvest:
            files = [entry.inbox / row.rel_path for row in job.harvest]
            job.pending = 1
            self.tasks.append(self.pool.new_task(job, entry.inbox, files,
                                                 self.runner.known(job)))
        else:
            self._finish(job)
        return False

    # -- harvesting ---------------------------------------------------------------------

    def _dispatch(self) -> None:
        while self.tasks and self.pool.idle():
            task = self.tasks[0]
            job: Job = task.job
            by_path = {str(job.inbox / row.rel_path): row.id for row in job.harvest}
            ids = [by_path[str(p)] for p in task.files if str(p) in by_path]
            try:
                self.journal.count_attempt(ids)
            except StoreFullError as exc:
                self._drop(job, exc)  # its tasks leave the queue
                continue
            self.tasks.popleft()
            job.attempted.update(ids)
            self.pool.submit(task)

    def _complete(self, job: Job, result: Any) -> None:
        if job.id not in self._running:
            return  # dropped when the store could not write: its files are taken again
        job.pending -= 1
        task: Task = result.task
        if result.fatal is not None and len(task.files) > 1:
            # One file of the job may be the culprit: try each file on its own.
            log.warning("job %s: %s; retrying its %d files one by one", job.name,
                        result.fatal, len(task.files))
            for path in task.files:
                job.pending += 1
                self.tasks.appendleft(self.pool.new_task(job, task.root, [path], task.known))
        else:
            try:
                self.runner.absorb(job, result)
            except StoreFullError as exc:
                self._drop(job, exc)
                return
        if job.pending == 0:
            self._finish(job)

    def _finish(self, job: Job) -> None:
        try:
            summary = self.runner.finish(job)
        except StoreFullError as exc:
            self._drop(job, exc)  # what it filed stays filed; the retry settles the rest
            return
        self._running.pop(job.id, None)
        self.stats.jobs += 1
        self.stats.records += summary.records
        self.stats.quarantined += len(summary.quarantined)
        self.stats.summaries.append(summary)
        for rel, reason in summary.quarantined:
            log.warning("%s: quarantined: %s", rel, reason)
        log.info("job %s done: %d file(s), %d new record(s), %d duplicate(s), cases %s,"
                 " connectors %s", job.name, summary.files, summary.records, summary.duplicates,
                 summary.cases, ", ".join(sorted(job.connectors)) or "-")
        self.reporter.finished(summary)
        entry = self.entries.get((job.inbox, job.name))
        if entry is not None:
            entry.busy = False
            # Look again: files may have arrived while the job ran (or be kept in place).
            entry.snap, entry.since, entry.closed = None, time.monotonic(), None

    def _recover(self) -> None:
        if self._store_full is not None and not self._store_writes():
            return  # filing writes the journal too: it waits for the store
        busy = {row_id for job in self._running.values() for row_id in job.rows}
        self.runner.recover(busy)

    # -- a store that cannot write --------------------------------------------------------

    def _start_journal(self) -> None:
        """The start's journal writes: the heartbeat, and what a killed run left open."""
        self.journal.beat(starting=True)
        self.journal.abandon_running_jobs()
        self.runner.reset_interrupted()

    def _store_cannot_write(self, exc: StoreFullError) -> None:
        """Pause: nothing new is taken until the store can write again (said once, by
        :meth:`_check_paused`)."""
        if self._store_full is None:
            log.debug("store write refused: %s", exc)
            self._store_full = Path(exc.path)

    def _drop(self, job: Job, exc: StoreFullError) -> None:
        """Let go of a job the store could not take: its files stay in the inbox, are taken
        again as a new job once the store can write, and its attempts do not count (the
        journal rows are given back by :meth:`_store_writes`)."""
        self._running.pop(job.id, None)
        self.tasks = deque(task for task in self.tasks if task.job is not job)
        self._uncount.update(job.attempted)
        log.warning("job %s: the store cannot write; left in the inbox for later", job.name)
        entry = self.entries.get((job.inbox, job.name))
        if entry is not None:
            entry.busy = False
            entry.snap, entry.since, entry.closed = None, time.monotonic(), None
        self._store_cannot_write(exc)

    def _store_writes(self) -> bool:
        """The periodic retry while the store cannot write: True once it can again (a probe
        that needs room went through, and the dropped jobs were given back)."""
        try:
            self.app.store.probe_room()
            if self._start_pending:
                self._start_journal()
                self._start_pending = False
            self.journal.release_jobs(set(self._running), self._uncount)
        except StoreFullError:
            return False
        self._uncount.clear()
        self._store_full = None
        return True

    # -- one service per home -----------------------------------------------------------

    def _take_lock(self) -> None:
        path = self.app.home.root / "watch.lock"
        handle = path.open("a+", encoding="utf-8")
        try:
            if os.name == "posix":
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows
                import msvcrt

                locking: Any = getattr(msvcrt, "locking")  # noqa: B009 - absent on POSIX stubs
                locking(handle.fileno(), getattr(msvcrt, "LK_NBLCK"), 1)  # noqa: B009
        except OSError as exc:
            handle.close()
            raise ConfigError(f"{self.app.home.root}: another printharvest watch is already"
                              " running on this home") from exc
        self._lock = handle

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def install_signal_handlers(service: WatchService) -> None:
    """Stop cleanly on SIGTERM / SIGINT (systemd stop, Ctrl-C); reload rules on SIGHUP."""
    def handler(signum: int, frame: object) -> None:
        service.stop()

    signal.signal(signal.SIGINT, handler)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, handler)
    if hasattr(signal, "SIGHUP"):
        # The usual "reload your configuration" signal (systemctl reload).
        signal.signal(signal.SIGHUP, lambda signum, frame: service.ask_reload())
