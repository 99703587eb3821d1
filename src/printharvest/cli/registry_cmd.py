"""``printers`` (the printer library as the registry asks for it) and ``upload-result``."""

from __future__ import annotations

from pathlib import Path

import click

from printharvest.cli._common import echo_json, get_app, table
from printharvest.registry.mapping import NrdrMapping
from printharvest.registry.printers import PAGE_COLUMNS, page_rows
from printharvest.registry.results import import_results


@click.command("printers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def printers(ctx: click.Context, as_json: bool) -> None:
    """The lab's printer library in the shape of the registry's Manage 3D Printers page."""
    app = get_app(ctx)
    rows = page_rows(app.rules.printers.library)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("the printer library is empty: add your printers to rules/printers.yaml "
                   "(library:) as you registered them on the Manage 3D Printers page")
        return
    click.echo(table(PAGE_COLUMNS, [tuple(r[c] or "-" for c in PAGE_COLUMNS) for r in rows]))


@click.command("upload-result")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def upload_result(ctx: click.Context, path: Path) -> int:
    """Import the registry's result for an upload file: exported cases become accepted or
    rejected, with the registry's message."""
    app = get_app(ctx)
    done = import_results(path, app.cases, NrdrMapping.load(app.home.rules_dir), actor="cli")
    for case_id in done.accepted:
        click.echo(f"case {case_id}: accepted")
    for case_id in done.rejected:
        click.echo(f"case {case_id}: rejected (see `printharvest cases show {case_id}`)")
    for problem in done.problems:
        click.echo(f"skipped {problem}", err=True)
    if not (done.accepted or done.rejected):
        click.echo("no case took a result from this file")
    return 1 if done.problems else 0
