"""``connectors``: what is installed, and what failed to load."""

from __future__ import annotations

import click

from printharvest.cli._common import get_app, table
from printharvest.cli.kit_cmd import new_connector, test_connectors
from printharvest.harvest.notices import map_problems
from printharvest.harvest.plugins import LoadedConnector, LoadedPoller


@click.group()
def connectors() -> None:
    """Inspect, test and create connectors."""


@connectors.command("list")
@click.pass_context
def list_connectors(ctx: click.Context) -> None:
    """Installed connectors and pollers, and those that failed to load."""
    host = get_app(ctx).host
    rows = [(c.id, c.connector.version, c.route, c.connector.label, " ".join(c.connector.patterns))
            for c in host.ordered()]
    click.echo(table(("id", "version", "route", "label", "patterns"), rows))
    if host.pollers:
        click.echo("\npollers:")
        click.echo(table(("id", "version", "route", "label"),
                         [(p.poller.id, p.poller.version, p.route, p.poller.label)
                          for p in host.pollers.values()]))
    if host.disabled:
        click.echo("\nswitched off (disabled_connectors in printharvest.yaml):")
        click.echo(table(("id", "version", "route", "state"),
                         [(ident, _version(d), d.route, "off")
                          for ident, d in sorted(host.disabled.items())]))
    if host.failures:
        click.echo(f"\n{len(host.failures)} connector(s) failed to load and were skipped:")
        for failure in host.failures:
            click.echo(f"  [{failure.route}] {failure.origin}: {failure.reason}")
    problems = map_problems(host)
    if problems:
        click.echo(f"\n{len(problems)} job-log column map(s) failed to load and were skipped:")
        for problem in problems:
            click.echo(f"  {problem}")
    for ident in host.unknown_disabled:
        click.echo(f"\nwarning: disabled_connectors names {ident!r}, which is not installed")


def _version(loaded: LoadedConnector | LoadedPoller) -> str:
    if isinstance(loaded, LoadedConnector):
        return loaded.connector.version
    return loaded.poller.version


# The connector kit (kit_cmd.py): a skeleton for a new connector, and how files score.
connectors.add_command(new_connector)
connectors.add_command(test_connectors)
