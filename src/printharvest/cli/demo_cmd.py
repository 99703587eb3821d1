"""``demo``: a throw-away home, the sample jobs ingested, the prefilled cases shown."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click
from rich.console import Console

from printharvest.app import App
from printharvest.cases.display import CLINICAL_LABEL, HARVESTABLE_LABEL, split_missing
from printharvest.cli._common import set_app
from printharvest.cli.cases_cmd import cases_table
from printharvest.cli.init_cmd import init_home
from printharvest.rules.shipped import shipped_demo_cases
from printharvest.watch.display import Reporter
from printharvest.watch.service import WatchService

NOT_JOB_FILES = shutil.ignore_patterns("*.expected.json", "README*")
"""Golden files and READMEs sit beside the samples but are not part of a job."""


@click.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Use this folder as the demo home instead of a temporary one.")
@click.pass_context
def demo(ctx: click.Context, keep: Path | None) -> int:
    """Drop the sample jobs into a throw-away home's inbox, run the inbox service once over
    them (the same path a lab's jobs take), and show the prefilled cases."""
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
    # One worker, and ``--once`` takes jobs in the order found: the jobs become cases in inbox
    # order, so case numbers are the same on every run (the README's walk-through uses them).
    stats = WatchService(app, Reporter(Console(highlight=False, soft_wrap=True)),
                         workers=1).run(once=True)
    found = app.cases.list()
    click.echo(f"{stats.records} record(s) into {len(found)} case(s); originals filed in "
               f"{app.home.archive}\n")
    click.echo(cases_table(found, app.dictionary))
    click.echo("")
    for case in found:
        missing = split_missing(case, app.dictionary)
        click.echo(f"case {case.id} ({case.case_key}): {len(case.fields)} field(s) prefilled")
        click.echo(f"  {CLINICAL_LABEL}: " + _names(missing.clinical))
        if missing.harvestable:
            click.echo(f"  {HARVESTABLE_LABEL}: " + _names(missing.harvestable))
    click.echo(f"\nSee one case with:   printharvest --home {root} cases show 1")
    click.echo(f"Open the UI with:    printharvest --home {root} serve")
    click.echo(f"Try the registry:    printharvest --home {root} nrdr-emulator  (then nrdr login, "
               "submit: README, 'To the registry')")
    # The demo home is left in place on purpose (serve, submit try it): say where it is and
    # how to remove it, rather than leaving a temporary folder behind without a word.
    click.echo(f"\nThe demo home stays at {root}" + ("" if keep else
                                                    f"; remove it when done: rm -r {root}"))
    if stats.quarantined:
        click.echo(f"{stats.quarantined} file(s) could not be read: see {app.home.quarantine}",
                   err=True)
        return 1
    return 0


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
