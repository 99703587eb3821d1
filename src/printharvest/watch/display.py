"""What the service shows: a live line per job in the terminal, and the rotating log file.

Log lines name files, jobs and connectors; they never carry file content or DICOM values
(the worker only returns records and one-line reasons, and those are what is logged).
"""

from __future__ import annotations

import logging
import logging.handlers
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table

if TYPE_CHECKING:
    from printharvest.watch.job_runner import JobSummary

from printharvest.harvest.names import SafeFormatter, shown
from printharvest.privacy.files import PrivateRotatingFileHandler, private_dir

LOG_NAME = "printharvest.log"


def setup_logging(folder: Path, max_bytes: int, backups: int) -> logging.Handler:
    """Send the ``printharvest`` loggers to ``folder/printharvest.log``, rotated by size."""
    private_dir(folder)
    handler = PrivateRotatingFileHandler(
        folder / LOG_NAME, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(SafeFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    logger = logging.getLogger("printharvest")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


class Reporter:
    """Terminal progress: a spinner line per running job, one result line per finished job.

    With no console (tests, the library) it stays silent. When the console is not a
    terminal (a service's journal, a pipe) only the result lines are printed.
    """

    def __init__(self, console: Console | None) -> None:
        self.console = console
        self.running: dict[str, tuple[int, float]] = {}
        self._live: Live | None = None
        self._last_problem: str | None = None
        if console is not None and console.is_terminal:
            # get_renderable: the spinner and elapsed seconds advance on every refresh.
            self._live = Live(console=console, refresh_per_second=8, transient=True,
                              get_renderable=self._render)
            self._live.start()

    def _render(self) -> Table:
        table = Table.grid(padding=(0, 1))
        now = time.monotonic()
        for name, (files, started) in self.running.items():
            table.add_row(Spinner("dots"), escape(shown(name)), f"{files} file(s)",
                          f"{now - started:.1f} s")
        if not self.running:
            table.add_row("", "[dim]waiting for jobs[/dim]")
        return table

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def started(self, name: str, files: int) -> None:
        """A job was taken."""
        self.running[name] = (files, time.monotonic())
        self._refresh()

    def finished(self, summary: JobSummary) -> None:
        """A job is done: print its line."""
        started = self.running.pop(summary.name, (0, time.monotonic()))[1]
        self._refresh()
        if self.console is None:
            return
        took = time.monotonic() - started
        cases = ", ".join(map(str, summary.cases)) or "-"
        name = escape(shown(summary.name))
        mark = "[red]![/red]" if summary.quarantined else "[green]ok[/green]"
        line = (f"{mark} {name}: {summary.files} file(s), {summary.records} new "
                f"record(s), {summary.duplicates} duplicate(s), case(s) {cases} "
                f"[dim]({took:.1f} s)[/dim]")
        self.console.print(line, highlight=False)
        for rel, reason in summary.quarantined:
            self.console.print(f"   [red]quarantined[/red] {escape(shown(rel))}: "
                               f"{escape(shown(reason))}", highlight=False)

    def problem(self, text: str) -> None:
        """Show a service problem once (until it changes)."""
        if self.console is not None and text != self._last_problem:
            self.console.print(f"[yellow]warning:[/yellow] {escape(shown(text))}",
                               highlight=False)
        self._last_problem = text

    def close(self) -> None:
        """Stop the live display."""
        if self._live is not None:
            self._live.stop()
            self._live = None
