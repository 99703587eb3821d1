"""``cases``: the data manager's work from the terminal."""

from __future__ import annotations

from typing import Any

import click

from ..case import Case
from ..nrdr.outbox import registry_lines
from ..store.outbox import Outbox
from ._common import echo_json, get_app, table


@click.group()
def cases() -> None:
    """List and show cases."""


def case_json(case: Case) -> dict[str, Any]:
    """A case in the contract's JSON shape."""
    return case.model_dump(mode="json")


@cases.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of cases.")
@click.option("--status", default=None, help="Only cases with this status.")
@click.pass_context
def list_cases(ctx: click.Context, as_json: bool, status: str | None) -> None:
    """Every case with its status and what it still lacks."""
    found = get_app(ctx).cases.list(status)
    if as_json:
        echo_json([case_json(c) for c in found])
        return
    if not found:
        click.echo("no cases yet")
        return
    click.echo(cases_table(found))


def cases_table(found: list[Case]) -> str:
    """The readable case table used by ``cases list`` and ``demo``."""
    rows = [
        (c.id, c.case_key, c.status, len(c.records), len(c.fields),
         ", ".join(c.missing) or "-")
        for c in found
    ]
    return table(("id", "case", "status", "records", "prefilled", "still needs"), rows)


@cases.command("show")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the case as JSON.")
@click.pass_context
def show_case(ctx: click.Context, case_id: int, as_json: bool) -> None:
    """One case: every field's value and where it came from."""
    case = get_app(ctx).cases.get(case_id)
    if as_json:
        echo_json(case_json(case))
        return
    click.echo(f"case {case.id}  {case.case_key}  [{case.status}]  registry id {case.registry_id}")
    click.echo(f"{len(case.records)} record(s)")
    rows = []
    for name, fv in case.fields.items():
        p = fv.provenance
        source = (f"typed by {p.actor}" if p.origin == "user"
                  else f"{p.connector} <- {p.path}" + (f" ({p.rule})" if p.rule else ""))
        rows.append((name, _show(fv.value), source))
    if rows:
        click.echo(table(("field", "value", "from"), rows))
    for conflict in case.conflicts:
        click.echo(f"conflict: {conflict.field}: typed {_show(conflict.user_value)}, "
                   f"harvest says {_show(conflict.harvested_value)}")
    click.echo("still needs: " + (", ".join(case.missing) or "nothing"))
    for line in registry_lines(Outbox(get_app(ctx).store), case.id):
        click.echo(line)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
