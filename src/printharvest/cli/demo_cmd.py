"""``demo``: a throw-away home, the sample jobs ingested, the prefilled cases shown."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from ..app import App
from ..resources import shipped_demo_cases
from ._common import report_errors, set_app
from .cases_cmd import cases_table, split_missing
from .init_cmd import init_home

NOT_JOB_FILES = shutil.ignore_patterns("*.expected.json", "README*")
"""Golden files and READMEs sit beside the samples but are not part of a job."""


@click.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Use this folder as the demo home instead of a temporary one.")
@click.pass_context
def demo(ctx: click.Context, keep: Path | None) -> int:
    """Ingest the sample jobs into a throw-away home and show the prefilled cases."""
    root = keep or Path(tempfile.mkdtemp(prefix="printharvest-demo-"))
    init_home(root)
    app = App.open(root)
    set_app(ctx, app)
    samples = shipped_demo_cases()
    jobs = sorted(p for p in samples.iterdir() if p.is_dir() and not p.name.startswith("."))
    click.echo(f"demo home: {root}")
    click.echo(f"dropping {len(jobs)} sample job(s) from {samples} into the inbox")
    for job in jobs:
        shutil.copytree(job, app.home.inbox / job.name, dirs_exist_ok=True,
                        ignore=NOT_JOB_FILES)
    outcome = app.harvester.harvest_paths([app.home.inbox], grouping="case")
    report = app.cases.ingest(outcome)
    click.echo(f"{report.new_records} record(s) into {len(report.new_cases)} case(s)\n")
    found = app.cases.list()
    click.echo(cases_table(found, app.dictionary))
    click.echo("")
    for case in found:
        clinical, harvestable = split_missing(case, app.dictionary)
        click.echo(f"case {case.id} ({case.case_key}): {len(case.fields)} field(s) prefilled")
        click.echo("  still to type: " + _names(clinical))
        if harvestable:
            click.echo("  not harvested yet: " + _names(harvestable))
    click.echo(f"\nSee one case with:   printharvest --home {root} cases show 1")
    click.echo(f"Open the UI with:    printharvest --home {root} serve")
    click.echo(f"Try the registry:    printharvest --home {root} nrdr-emulator  (then nrdr login, "
               "submit: README, 'To the registry')")
    return report_errors(outcome.errors)


def _names(names: list[str], limit: int = 6) -> str:
    """A short list: the first few names, then how many more."""
    if not names:
        return "nothing"
    by_head: dict[str, list[str]] = {}
    for name in names:
        by_head.setdefault(name.split(".", 1)[0], []).append(name)
    # Many of one section (the 8 effort times) read better as one item.
    names = [n for head, members in by_head.items()
             for n in (members if len(members) < 3 else [f"{head}.* ({len(members)})"])]
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")
