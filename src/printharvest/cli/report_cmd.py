"""``report``: the lab's summary report as one HTML file (or CSV)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from printharvest.cli._common import get_app, parse_where
from printharvest.privacy.files import open_private


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", ctx, param) from None


@click.command()
@click.option("--from", "period_from", callback=_day, help="First day (YYYY-MM-DD).")
@click.option("--to", "period_to", callback=_day, help="Last day (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["html", "csv"]), default="html",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write it (default: exports/report-<date>.html or .csv).")
@click.option("--where", multiple=True, metavar="FIELD=VALUE", callback=parse_where,
              help="Only cases whose field holds this value, e.g. "
                   "lab.requesting_service=Cardiology (repeat to combine).")
@click.pass_context
def report(ctx: click.Context, period_from: date | None, period_to: date | None, fmt: str,
           out: Path | None, where: dict[str, str]) -> None:
    """Cases by month, organ system, technology, material, effort, printers and backlog."""
    from printharvest.reports import build_report, render_csv, render_html

    if period_from and period_to and period_from > period_to:
        raise click.BadParameter("--from is after --to", ctx, param_hint="--from")
    app = get_app(ctx)
    built = build_report(app, period_from, period_to, where)
    text = render_html(built) if fmt == "html" else render_csv(built)
    if out is None:
        app.home.exports.mkdir(parents=True, exist_ok=True)
        out = app.home.exports / f"report-{date.today().isoformat()}.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    # 0600 like the other export files: the report names the lab's cases and printers.
    with open_private(out, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    click.echo(f"wrote {out} ({built.case_count} case(s))")
