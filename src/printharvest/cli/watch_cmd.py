"""``watch``: the inbox service (backlog first, then watch; ``--once`` stops after the backlog)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import click
from rich.console import Console

from printharvest.cli._common import get_app
from printharvest.cli.poll_cmd import poll_line
from printharvest.cli.status_cmd import service_running
from printharvest.exceptions import ConfigError
from printharvest.pollers.service import PollerService, PollReport
from printharvest.watch.display import Reporter, setup_logging
from printharvest.watch.service import WatchService, install_signal_handlers

POLL_CHECK_SECONDS = 5.0
log = logging.getLogger("printharvest.watch")


def said_polls(run_due: Callable[[float], list[PollReport]],
               console: Console) -> Callable[[float], None]:
    """The service's periodic poll, saying on the console and in the log every printer that
    failed and every one that gave new jobs (a printer that is off must not go unnoticed:
    the reports were dropped before); a round with nothing new stays quiet."""
    def run(now: float) -> None:
        for report in run_due(now):
            if report.error is None and not report.new_records:
                continue
            line = poll_line(report)
            log.log(logging.INFO if report.error is None else logging.WARNING, "%s", line)
            console.print(line)
    return run


@click.command()
@click.option("--once", is_flag=True,
              help="Process what is in the inboxes now, then exit (cron, tests, the demo).")
@click.pass_context
def watch(ctx: click.Context, once: bool) -> int:
    """Watch the inbox folders and turn every dropped job into a case."""
    app = get_app(ctx)
    app.home.ensure()
    if service_running(app.home.root, None):
        # Refuse before saying "watching": the lock in WatchService.run still guards a race.
        raise ConfigError(f"{app.home.root}: another printharvest watch is already running "
                          "on this home")
    settings = app.home.config.watch
    handler = setup_logging(app.home.logs, settings.log_max_bytes, settings.log_backups)
    console = Console(highlight=False, soft_wrap=True)
    service = WatchService(app, Reporter(console))
    pollers = PollerService(app)
    # Each printer keeps its own interval and back-off; this only asks who is due (and picks
    # up printers added to rules/printers.yaml while the service runs).
    service.add_periodic("pollers", POLL_CHECK_SECONDS, said_polls(pollers.run_due, console))
    install_signal_handlers(service)
    inboxes = ", ".join(str(p) for p in service.inboxes)
    console.print(f"watching {inboxes}" + (" (once)" if once else " (Ctrl-C to stop)"))
    try:
        stats = service.run(once=once)
        if once and pollers.entries:
            for report in pollers.run_due(force=True):
                console.print(poll_line(report))
    finally:
        pollers.close()
        logging.getLogger("printharvest").removeHandler(handler)
        handler.close()
    console.print(f"{stats.jobs} job(s), {stats.records} new record(s), "
                  f"{stats.quarantined} file(s) quarantined")
    return 1 if stats.quarantined else 0
