"""PollerService: runs each configured printer's poller when it is due and stores its jobs.

* Each printer runs independently, in its own worker thread with its own timeouts: a printer
  that is off or slow never holds up the others' records.
* A poll's records and the printer's new cursor are committed in one transaction, so a
  restart (a new PollerService on the same store) neither loses nor repeats a job; records
  are keyed by printer and job id, so a job seen again is a duplicate, not a new record.
* After a failure the printer is retried with exponential back-off (``Retry-After`` when
  the printer or API gave one), reset by the next success.

The watch service calls :meth:`PollerService.run_due` periodically; ``printharvest poll``
does the same from the terminal.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from printharvest.cases.service import IngestReport
from printharvest.config import PollerSettings
from printharvest.exceptions import ConfigError, PrintharvestError, StoreError
from printharvest.harvest.harvester import HarvestedRecord
from printharvest.models import HarvestRecord
from printharvest.pollers.base import PollBatch, PrinterPoller
from printharvest.rules.pollers import PollerEntry
from printharvest.store.cursors import CursorState, load_cursor, save_cursor

DEADLINE_FACTOR = 6
"""A whole poll (all pages) may take this many request timeouts before it is given up."""

MAX_THREADS = 8
"""Printers polled at the same time, at most (threads are started as they are needed)."""

log = logging.getLogger("printharvest.pollers")

if TYPE_CHECKING:
    from printharvest.app import App
    from printharvest.rules.lab import Rules


@dataclass(frozen=True)
class PollReport:
    """What one printer's poll did."""

    printer: str
    poller: str
    new_records: int = 0
    duplicates: int = 0
    error: str | None = None
    next_due_at: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the poll succeeded."""
        return self.error is None


class PollerService:
    """Polls the printers listed under ``pollers:`` in rules/printers.yaml."""

    def __init__(self, app: App, settings: PollerSettings | None = None) -> None:
        self.app = app
        self._fixed_settings = settings
        self.settings = settings or app.home.config.pollers
        self._rules: Rules = app.rules
        self.entries = _enabled_entries(self._rules)
        self._pollers: dict[str, PrinterPoller] = {}
        self._inflight: dict[str, Future[PollBatch]] = {}
        self._pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="poller")

    def refresh(self) -> None:
        """Follow a reload of the rules (``watch`` reloads on an edit or SIGHUP): printers
        added, changed or removed under ``pollers:`` apply from the next round. A broken edit
        keeps the printers polled so far, said once in the log."""
        rules = self.app.rules
        if rules is self._rules:
            return
        self._rules = rules
        self.settings = self._fixed_settings or self.app.home.config.pollers
        try:
            entries = _enabled_entries(rules)
        except ConfigError as exc:
            log.error("pollers not reloaded: %s; still polling the previous printers", exc)
            return
        kept = {e.name: e for e in entries if e in self.entries}
        self._pollers = {name: p for name, p in self._pollers.items() if name in kept}
        self.entries = entries

    def poller_for(self, entry: PollerEntry) -> PrinterPoller:
        """The (cached) poller instance of one printer."""
        if entry.name not in self._pollers:
            loaded = self.app.host.pollers.get(entry.id)
            if loaded is None:
                known = ", ".join(sorted(self.app.host.pollers)) or "none"
                raise ConfigError(f"printers.yaml: pollers: {entry.name}: unknown poller "
                                  f"{entry.id!r} (installed: {known})")
            settings = entry.model_dump()
            if settings["timeout_seconds"] is None:
                settings["timeout_seconds"] = self.settings.timeout_seconds
            self._pollers[entry.name] = loaded.poller(settings)
        return self._pollers[entry.name]

    def run_due(self, now: float | None = None, *, force: bool = False) -> list[PollReport]:
        """Poll every printer that is due (every one with ``force``); one report each."""
        self.refresh()
        now = time.time() if now is None else now
        store = self.app.store
        due = [(e, load_cursor(store, e.name)) for e in self.entries]
        due = [(e, s) for e, s in due if force or s.next_due_at <= now]
        # a printer whose previous poll is still stuck in its thread is left alone
        due = [(e, s) for e, s in due if not self._running(e.name)]
        reports: list[PollReport] = []
        if not due:
            return reports
        futures: dict[Future[PollBatch], tuple[PollerEntry, CursorState]] = {}
        for entry, state in due:
            try:
                poller = self.poller_for(entry)
            except PrintharvestError as exc:
                reports.append(self._failed(entry, state, exc, now))
                continue
            future = self._pool.submit(poller.poll, state.cursor)
            self._inflight[entry.name] = future
            futures[future] = (entry, state)
        deadline = max((self._timeout(e) for e, _ in due), default=0.0) * DEADLINE_FACTOR
        done: set[Future[PollBatch]] = set()
        try:
            for future in as_completed(futures, timeout=deadline):
                done.add(future)
                reports.append(self._outcome(future, *futures[future], now))
        except TimeoutError:
            for future, (entry, state) in futures.items():
                if future not in done:  # still hanging: report it, let its thread finish
                    reports.append(self._failed(entry, state, PrintharvestError(
                        f"{entry.name}: poll took longer than {deadline:.0f} s"), now))
        order = {e.name: i for i, e in enumerate(self.entries)}
        return sorted(reports, key=lambda r: order.get(r.printer, 0))

    def _running(self, name: str) -> bool:
        future = self._inflight.get(name)
        return future is not None and not future.done()

    def _timeout(self, entry: PollerEntry) -> float:
        return entry.timeout_seconds or self.settings.timeout_seconds

    def close(self) -> None:
        """Stop the worker threads (waits for polls still running)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- outcomes -----------------------------------------------------------------------

    def _outcome(self, future: Future[PollBatch], entry: PollerEntry, state: CursorState,
                 now: float) -> PollReport:
        try:
            batch = future.result()
        except PrintharvestError as exc:
            return self._failed(entry, state, exc, now)
        except Exception as exc:  # a poller bug must not stop the others
            return self._failed(entry, state, PrintharvestError(
                f"{entry.name}: poller {entry.id} failed ({type(exc).__name__})"), now)
        try:
            return self._commit(entry, state, batch, now)
        except StoreError as exc:
            # nothing of this poll was stored (one transaction): the same jobs come again
            return PollReport(entry.name, entry.id, error=" ".join(str(exc).split())[:300],
                              next_due_at=now + self.settings.backoff_initial_seconds)

    def _commit(self, entry: PollerEntry, state: CursorState, batch: PollBatch,
                now: float) -> PollReport:
        items = [self._prepare(entry, r) for r in batch.records]
        report = IngestReport()
        next_due = now + entry.interval_seconds
        store = self.app.store
        with store.transaction():
            for item in items:
                self.app.cases.ingest_one(item, report, actor=f"poller:{entry.name}")
            save_cursor(store, replace(
                state, cursor=batch.cursor if batch.cursor is not None else state.cursor,
                failures=0, next_due_at=next_due, last_error=None,
                last_success_at=datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")))
        return PollReport(entry.name, entry.id, report.new_records, report.duplicates,
                          None, next_due)

    def _failed(self, entry: PollerEntry, state: CursorState, exc: PrintharvestError,
                now: float) -> PollReport:
        failures = state.failures + 1
        delay = min(self.settings.backoff_max_seconds,
                    self.settings.backoff_initial_seconds * 2 ** (failures - 1))
        wait = getattr(exc, "retry_after", None)
        if isinstance(wait, int | float):
            delay = max(delay, min(float(wait), self.settings.backoff_max_seconds))
        message = " ".join(str(exc).split())[:300]
        with self.app.store.transaction():
            save_cursor(self.app.store, replace(state, failures=failures,
                                                next_due_at=now + delay, last_error=message))
        return PollReport(entry.name, entry.id, error=message, next_due_at=now + delay)

    def _prepare(self, entry: PollerEntry, record: HarvestRecord) -> HarvestedRecord:
        """Case key (a rule over ``printer/job id``, else ``printer-jobid``) and rules."""
        job_uid = record.source.path.rsplit("/", 1)[-1]
        key, rule = self.app.rules.case_key((entry.name, job_uid))
        if rule.startswith("default"):
            key, rule = f"{entry.name}-{job_uid}", "default: printer name and job id"
        record.case_key = key
        if record.printer is not None and entry.serial and record.printer.serial is None:
            record.printer.serial = entry.serial
        notes = self.app.rules.enrich(record)
        notes["case_key"] = rule
        return HarvestedRecord(record, notes)


def _enabled_entries(rules: Rules) -> list[PollerEntry]:
    """The printers to poll; ConfigError when two share a name (their cursors would mix)."""
    entries = [e for e in rules.printers.pollers if e.enabled]
    names = [e.name for e in entries]
    duplicate = sorted({n for n in names if names.count(n) > 1})
    if duplicate:
        raise ConfigError(f"printers.yaml: pollers: the name {duplicate[0]!r} is used twice")
    return entries
