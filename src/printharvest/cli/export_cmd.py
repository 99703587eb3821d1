"""``export`` and ``sheet``: registry batch upload files, NRDR JSON, printable case sheets."""

from __future__ import annotations

from typing import Any

import click

from printharvest.app import App
from printharvest.cli._common import get_app
from printharvest.registry.exporter import Exporter, ExportFormat, ExportResult


def exporter_for(app: App) -> Exporter:
    """An Exporter over the app's home and settings."""
    home = app.home
    return Exporter(app.cases, home.rules_dir, home.exports,
                    local_roots=[home.root, *home.inboxes, home.archive],
                    max_bytes=int(home.config.nrdr.upload_max_mb * 1024 * 1024),
                    facility_id=home.config.nrdr.upload_facility_id())


def report(result: ExportResult, what: str) -> int:
    """Print what an export did; the exit code (1 when a named case was skipped)."""
    for case_id, reason in result.skipped:
        click.echo(f"skipped case {case_id}: {reason}", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not result.files:
        click.echo(f"nothing to {what}: no ready case" + ("" if not result.skipped
                                                        else " among those named"))
        return 1 if result.skipped else 0
    for path in result.files:
        click.echo(f"wrote {path}")
    click.echo(f"{len(result.cases)} case(s) in export {result.export_id}")
    return 1 if result.skipped else 0


class _ExportCommand(click.Command):
    """``export [IDS]`` writes registry files; ``export prints`` the lab's print history."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """Hand ``export prints ...`` to the print-history command."""
        if args[:1] == ["prints"]:
            from printharvest.cli.prints_cmd import export_prints

            return export_prints.make_context("export prints", args[1:], parent=parent,
                                              **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.command("export", cls=_ExportCommand)
@click.argument("ids", nargs=-1, type=int)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "psv", "json", "sheet"]),
              default="xlsx", show_default=True,
              help="xlsx / psv (pipe-delimited .txt): batch upload file; json: NRDR JSON "
                   "mapping; sheet: printable HTML in the web form's order.")
@click.option("--header/--no-header", default=None,
              help="Write a header row (default: as the upload layout says).")
@click.option("--again", is_flag=True,
              help="Also export cases exported before (in another format, or once more); "
                   "without it they are skipped, so nothing is sent twice by accident.")
@click.pass_context
def export(ctx: click.Context, ids: tuple[int, ...], fmt: str, header: bool | None,
           again: bool) -> int:
    """Write ready cases (all, or IDS) into the home's exports/ folder.

    `export prints [--from --to] [--format csv|xlsx]` writes the lab's whole print history
    instead (see `export prints --help`).
    """
    app = get_app(ctx)
    chosen: ExportFormat = fmt  # type: ignore[assignment]
    result = exporter_for(app).export(chosen, ids, header=header, actor="cli", again=again)
    return report(result, "export")


@click.command("sheet")
@click.argument("ids", nargs=-1, type=int)
@click.pass_context
def sheet(ctx: click.Context, ids: tuple[int, ...]) -> int:
    """A printable case sheet (HTML) of IDS (default: every ready case), for the web form."""
    result = exporter_for(get_app(ctx)).export("sheet", ids, actor="cli")
    return report(result, "print")
