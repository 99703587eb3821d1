"""``poll``: run the printer pollers configured in rules/printers.yaml."""

from __future__ import annotations

import time

import click

from printharvest.cli._common import get_app
from printharvest.pollers.service import PollerService, PollReport

TICK_SECONDS = 1.0


def poll_line(report: PollReport) -> str:
    if report.error is not None:
        wait = max(0.0, report.next_due_at - time.time())
        return f"{report.printer} ({report.poller}): failed: {report.error}; retry in {wait:.0f} s"
    return (f"{report.printer} ({report.poller}): {report.new_records} new job(s), "
            f"{report.duplicates} already known")


@click.command()
@click.option("--once", is_flag=True, help="Poll every printer once now, then exit.")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> int:
    """Pull finished jobs from the printers listed under pollers: in printers.yaml."""
    app = get_app(ctx)
    service = PollerService(app)
    ctx.call_on_close(service.close)
    if not service.entries:
        click.echo("no pollers configured (add a pollers: list to rules/printers.yaml)")
        return 0
    if once:
        reports = service.run_due(force=True)
        for report in reports:
            click.echo(poll_line(report), err=report.error is not None)
        return 1 if any(r.error for r in reports) else 0
    click.echo(f"polling {len(service.entries)} printer(s); Ctrl-C to stop")
    try:
        while True:
            for report in service.run_due():
                click.echo(poll_line(report), err=report.error is not None)
            time.sleep(TICK_SECONDS)
    except KeyboardInterrupt:
        click.echo("stopped")
    return 0
