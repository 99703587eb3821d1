"""``status``: the inbox service's queue, its last jobs and its last errors (from the journal)."""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import click

from printharvest.cli._common import echo_json, get_app, table
from printharvest.store.core import LOW_SPACE_BYTES
from printharvest.store.journal import OPEN_STATES, FileRow, Journal, ServiceBeat
from printharvest.watch.service import BEAT_SECONDS, PAUSED_NAME


def _moved_to(row: FileRow) -> str | None:
    """Where a quarantined file is now (its name may have changed, e.g. ``x-1.gcode``)."""
    return row.destination if row.state == "quarantined" else None


def service_running(root: Path, beat: ServiceBeat | None) -> bool:
    """True when a ``printharvest watch`` holds the home's lock right now.

    Where the lock cannot be probed (Windows), a recent heartbeat without a stop counts.
    """
    path = root / "watch.lock"
    if os.name != "posix":
        if beat is None or beat.stopped_at:
            return False
        age = datetime.now(UTC) - datetime.fromisoformat(beat.beat_at)
        return age.total_seconds() < 3 * BEAT_SECONDS
    if not path.exists():
        return False
    import fcntl

    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


@click.command()
@click.option("--limit", default=10, show_default=True, help="How many jobs and errors to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, limit: int, as_json: bool) -> int:
    """Show the inbox service's queue, last jobs and last errors."""
    app = get_app(ctx)
    if not app.home.store_path.exists():
        # Looking must not create: a mistyped --home would otherwise become a new empty home.
        raise click.UsageError(f"no printharvest store at {app.home.store_path} "
                               "(check --home, or run printharvest init)")
    journal = Journal(app.store)
    beat = journal.service()
    running = service_running(app.home.root, beat)
    queue = journal.files_in(OPEN_STATES)
    jobs = journal.recent_jobs(limit)
    errors = journal.recent_failures(limit)
    duplicates = journal.recent_duplicates(limit)
    partly = [j for j in jobs if j.shown_state == "partly done"]
    if as_json:
        echo_json({
            "running": running,
            "service": None if beat is None else vars(beat),
            "queue": [{"path": r.rel_path, "state": r.state, "attempts": r.attempts}
                      for r in queue],
            "jobs": [{**vars(j), "state": j.shown_state} for j in jobs],
            "errors": [{"path": r.rel_path, "state": r.state, "reason": r.reason,
                        "moved_to": _moved_to(r), "at": r.updated_at} for r in errors],
            "duplicates": [{"path": r.rel_path, "reason": r.reason} for r in duplicates],
        })
        return 0
    if beat is None:
        click.echo("service: never ran on this home")
    else:
        state = "running" if running else "not running"
        click.echo(f"service: {state} (pid {beat.pid}, started {beat.started_at}, "
                   f"last heartbeat {beat.beat_at}"
                   + (f", stopped {beat.stopped_at})" if beat.stopped_at else ")"))
    for line in watch_problems(app.home.root, journal, running, app.home.store_path):
        click.echo(line)
    click.echo(f"\nqueue: {len(queue)} file(s) in progress")
    if queue:
        click.echo(table(["file", "state", "attempts"],
                         [(r.rel_path, r.state, r.attempts) for r in queue[:limit]]))
    click.echo("\nlast jobs:")
    if jobs:
        click.echo(table(
            ["job", "name", "state", "files", "records", "dups", "quarantined", "cases",
             "finished"],
            [(j.id, j.name, j.shown_state, j.files, j.records, j.duplicates, j.quarantined,
              ",".join(map(str, j.cases)) or "-", j.finished_at or "-") for j in jobs]))
    else:
        click.echo("(none)")
    for job in partly:
        bad = [r.rel_path for r in journal.job_files(job.id) if r.outcome == "failed"]
        click.echo(f"job {job.id} ({job.name}) is partly done: quarantined "
                   + ", ".join(bad))
    click.echo("\nlast errors:")
    if errors:
        click.echo(table(["file", "state", "now at", "reason", "at"],
                         [(r.rel_path, r.state, _moved_to(r) or "-", r.reason, r.updated_at)
                          for r in errors]))
    else:
        click.echo("(none)")
    if duplicates:
        click.echo("\nlast duplicates:")
        click.echo(table(["file", "belongs to"],
                         [(r.rel_path, r.reason or "-") for r in duplicates]))
    return 0


def watch_problems(root: Path, journal: Journal, running: bool,
                   store: Path | None = None) -> list[str]:
    """Lines for what holds the inbox up: a pause on a full disk, folders that will not let
    their originals go (each named once)."""
    lines: list[str] = []
    pause = ""
    if running and (root / PAUSED_NAME).is_file():
        with contextlib.suppress(OSError):
            pause = (root / PAUSED_NAME).read_text(encoding="utf-8").strip()
    if running and not pause and store is not None and _disk_full(store):
        # The service's pause line could not be written (the file is left empty, or not
        # made): the home is on the store's disk, and that is the full one.
        pause = f"paused: the store cannot write (disk full) at {store}"
    if pause:
        lines.append(pause)
    folders: dict[Path, int] = {}
    for row in journal.stuck_files():
        folder = (Path(row.inbox) / row.rel_path).parent
        folders[folder] = folders.get(folder, 0) + 1
    for folder, count in folders.items():
        lines.append(f"inbox: {folder} will not let originals go (read-only?); {count} file(s)"
                     " harvested and left in place")
    return lines


def _disk_full(store: Path) -> bool:
    """True when the store's disk has too little room for the store to write."""
    try:
        return shutil.disk_usage(store.parent).free < LOW_SPACE_BYTES
    except OSError:
        return False
