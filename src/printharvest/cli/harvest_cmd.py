"""``inspect`` and ``ingest``: harvest files without or with storing them."""

from __future__ import annotations

from pathlib import Path

import click

from printharvest.cli._common import echo_json, get_app, report_errors
from printharvest.harvest.notices import load_notices
from printharvest.harvest.plugins import PluginHost
from printharvest.models import HarvestRecord

_PATHS = click.argument("paths", nargs=-1, required=True,
                        type=click.Path(path_type=Path))


@click.command()
@_PATHS
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of HarvestRecords.")
@click.pass_context
def inspect(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> int:
    """Detect and harvest files, folders or zips without storing anything."""
    app = get_app(ctx)
    app.read_only = True
    warn_load_problems(app.host)
    outcome = app.bounded_harvester.harvest_paths(paths, grouping="root")
    if as_json:
        echo_json([r.to_json_dict() for r in outcome.records])
    else:
        for record in outcome.records:
            click.echo(describe(record))
    return report_errors(outcome.errors)


@click.command()
@_PATHS
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...]) -> int:
    """Harvest files into the store, creating or updating cases.

    A folder holding files is one job (one case, unless case-key rules say otherwise); a
    folder holding only job folders is treated like the inbox. Stored paths are absolute, so
    provenance keeps pointing at the file whatever folder the command ran from.
    """
    app = get_app(ctx)
    warn_load_problems(app.host)
    outcome = app.bounded_harvester.harvest_paths([p.absolute() for p in paths],
                                                  grouping="case")
    report = app.cases.ingest(outcome)
    click.echo(
        f"{report.new_records} new record(s), {report.duplicates} already known; "
        f"{len(report.new_cases)} new case(s), {len(report.updated_cases)} updated; "
        f"{len(outcome.errors)} file(s) failed"
    )
    return report_errors(outcome.errors)


def warn_load_problems(host: PluginHost) -> None:
    """Say on stderr which connectors and column maps failed to load (they are skipped)."""
    for line in load_notices(host):
        click.echo(f"warning: {line}", err=True)


def describe(record: HarvestRecord) -> str:
    """A one-line human summary of a record."""
    bits: list[str] = [f"[{record.kind}] {record.source.path}", f"via {record.source.connector}"]
    if record.slicer:
        bits.append(f"{record.slicer.name} {record.slicer.version or ''}".strip())
    if record.printer and (record.printer.label or record.printer.model):
        bits.append(f"printer {record.printer.label or record.printer.model}")
    if record.technology:
        bits.append(record.technology)
    for material in record.materials:
        amount = f" {material.used_g:g} g" if material.used_g is not None else ""
        what = material.name or material.type or material.code or "material"
        bits.append(f"{material.role} {what}{amount}")
    if record.print_time_s is not None:
        bits.append(f"{record.print_time_s / 3600:.2f} h")
    if record.part_count is not None:
        bits.append(f"{record.part_count} part(s)")
    if record.volume_ml is not None:
        bits.append(f"{record.volume_ml:g} mL")
    if record.imaging:
        bits.append("/".join(record.imaging.modalities) or "imaging")
    line = ", ".join(bits)
    for warning in record.warnings:
        line += f"\n    warning: {warning}"
    return line
