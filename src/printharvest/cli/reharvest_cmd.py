"""``reharvest``: today's connectors and rules over the originals of existing cases."""

from __future__ import annotations

import click

from printharvest.cli._common import get_app
from printharvest.cli.cases_cmd import actor
from printharvest.dictionary.validation import format_value


@click.command()
@click.argument("case_ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every case in the store.")
@click.pass_context
def reharvest(ctx: click.Context, case_ids: tuple[int, ...], every: bool) -> int:
    """Read the originals of cases again with today's connectors and rules.

    Typed values are kept (a disagreeing harvest shows as a conflict); every harvested value
    that changes is written to the case's audit log. Exit 1 if an original could not be read.
    """
    if bool(case_ids) == every:
        raise click.UsageError("give case ids, or --all")
    from printharvest.cases.reharvest import reharvest as run

    app = get_app(ctx)
    ids = [row.id for row in app.store.case_rows()] if every else list(case_ids)
    failed = False
    for result in run(app, ids, actor()):
        click.echo(f"case {result.case_id}: {result.reread} record(s) read again, "
                   f"{len(result.changes)} value(s) changed")
        for change in result.changes:
            old = format_value(None, change.old) or "-"
            new = format_value(None, change.new) or "-"
            note = " (conflicts with the typed value: cases resolve)" if change.conflict else ""
            rule = f" [{change.rule}]" if change.rule else ""
            click.echo(f"  {change.field}: {old} -> {new}{rule}{note}")
        for line in result.skipped:
            click.echo(f"  skipped: {line}")
        for line in result.errors:
            failed = True
            click.echo(f"  error: {line}", err=True)
    return 1 if failed else 0
