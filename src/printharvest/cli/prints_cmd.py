"""``prints`` and ``export prints``: the lab's print history, its lots, retiring a record."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import click

from printharvest.cli._common import echo_json, get_app, table
from printharvest.ledger.lots import used_lot
from printharvest.reports.history import COLUMNS, csv_text, history_rows, xlsx_data
from printharvest.store.ledger import Ledger

_DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.command("export prints")
@click.option("--from", "period_from", type=_DAY, help="First day (YYYY-MM-DD), inclusive.")
@click.option("--to", "period_to", type=_DAY, help="Last day (YYYY-MM-DD), inclusive.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--with-case-keys", is_flag=True,
              help="Add the case key column. Case keys come from folder names and may hold "
                   "patient names: keep such a file inside the lab.")
@click.pass_context
def export_prints(ctx: click.Context, period_from: datetime | None, period_to: datetime | None,
                  fmt: str, with_case_keys: bool) -> int:
    """Every print record ever harvested (failed and aborted ones too) into exports/.

    One row per print: printer, technology, materials and lots, amounts, the slicer's estimate
    and the actual duration, outcome, start and finish, cost (with the inputs it misses) and
    whether the record was retired. A print counts for the day it started (else finished,
    else was harvested).
    """
    if period_from and period_to and period_from > period_to:
        raise click.UsageError("--from is after --to")
    app = get_app(ctx)
    rows = history_rows(Ledger(app.store).prints(), app.rules, app.home.config.ledger,
                        period_from=_day(period_from), period_to=_day(period_to),
                        case_keys=with_case_keys)
    data = (csv_text(rows, with_case_keys).encode("utf-8") if fmt == "csv"
            else xlsx_data(rows, with_case_keys))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = app.home.exports / f"prints_{stamp}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    # 0600: the history names the lab's cases (and, if asked, their keys).
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    click.echo(f"wrote {target}")
    click.echo(f"{len(rows)} print(s)")
    return 0


@click.group("prints", invoke_without_command=True)
@click.option("--lot", help="Only prints whose material came from this lot, cartridge, tank "
                            "or spool id (the recall question).")
@click.option("--json", "as_json", is_flag=True, help="Print the prints as JSON.")
@click.pass_context
def prints(ctx: click.Context, lot: str | None, as_json: bool) -> int:
    """List print records with their case; `prints --lot LOT` finds every use of a lot."""
    if ctx.invoked_subcommand is not None:
        return 0
    app = get_app(ctx)
    found = [p for p in Ledger(app.store).prints() if lot is None or used_lot(p.record, lot)]
    rows = history_rows(found, app.rules, app.home.config.ledger)
    if as_json:
        columns = ["record", "case", "registry id", "printer", "technology", "model material",
                   "lots", "outcome", "finished at", "retired"]
        echo_json([{c: r.cells[_INDEX[c]] for c in columns} for r in rows])
        return 0
    if not rows:
        click.echo("no print records" + (f" used lot {lot}" if lot else ""))
        return 1 if lot else 0
    click.echo(table(("record", "case", "registry id", "printer", "material", "lots", "outcome",
                      "finished"),
                     [[r.cells[_INDEX[c]] or "-" for c in
                       ("record", "case", "registry id", "printer", "model material", "lots",
                        "outcome", "finished at")] for r in rows]))
    cases = sorted({r.print_row.case_id for r in rows})
    click.echo(f"{len(rows)} print(s) in {len(cases)} case(s)"
               + (f" used lot {lot}: cases {', '.join(map(str, cases))}" if lot else ""))
    return 0


@prints.command("retire")
@click.argument("record_id", type=int)
@click.option("--reason", required=True, help="Why the record leaves the history (audited).")
@click.pass_context
def retire(ctx: click.Context, record_id: int, reason: str) -> int:
    """Retire one print record: it stays listed as retired, with the reason and who did it."""
    app = get_app(ctx)
    row = Ledger(app.store).retire(record_id, reason, actor=os.environ.get("USER") or "cli")
    click.echo(f"retired print record {row.record_id} of case {row.case_id}: {reason.strip()}")
    return 0


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


_INDEX = {name: i for i, name in enumerate(COLUMNS)}
