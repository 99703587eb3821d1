"""``cases``: the data manager's work from the terminal."""

from __future__ import annotations

import getpass
from typing import Any

import click

from printharvest.app import App
from printharvest.cases.display import (
    CLINICAL_LABEL,
    HARVESTABLE_LABEL,
    provenance_text,
    split_missing,
)
from printharvest.cases.filters import case_matches
from printharvest.cases.model import CASE_STATUSES, Case
from printharvest.cases.service import RESEND_STATUSES
from printharvest.cases.words import field_words
from printharvest.cli._common import echo_json, get_app, parse_where, table
from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.validation import CaseNotReadyError, check_value
from printharvest.dictionary.values import parse_text
from printharvest.exceptions import ValidationError


@click.group()
def cases() -> None:
    """List, show, complete and validate cases."""


def actor() -> str:
    """Who is typing at this terminal (for the audit log)."""
    try:
        return "cli:" + getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def case_json(case: Case) -> dict[str, Any]:
    """A case in the contract's JSON shape."""
    return case.model_dump(mode="json")


@cases.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of cases.")
@click.option("--status", type=click.Choice(CASE_STATUSES), default=None,
              help="Only cases with this status.")
@click.option("--search", default=None, help="Only cases whose key or registry id holds this.")
@click.option("--where", multiple=True, metavar="FIELD=VALUE", callback=parse_where,
              help="Only cases whose field holds this value, e.g. lab.cost_centre=CARD-12 "
                   "(repeat to combine).")
@click.pass_context
def list_cases(ctx: click.Context, as_json: bool, status: str | None,
               search: str | None, where: dict[str, str]) -> None:
    """Every case with its status and what it still lacks."""
    app = get_app(ctx)
    found = [c for c in app.cases.list(status, search) if case_matches(c, where)]
    if as_json:
        echo_json([case_json(c) for c in found])
        return
    if not found:
        click.echo("no cases yet" if not (status or search or where) else "no matching cases")
        return
    click.echo(cases_table(found, app.dictionary))


def cases_table(found: list[Case], dictionary: Dictionary) -> str:
    """The readable case table used by ``cases list`` and ``demo``: counts, not long lists."""
    rows = []
    for c in found:
        missing = split_missing(c, dictionary)
        rows.append((c.id, c.case_key, c.status, len(c.records), len(c.fields),
                     len(missing.clinical), len(missing.harvestable), len(c.conflicts)))
    return table(("id", "case", "status", "records", "prefilled", CLINICAL_LABEL,
                  HARVESTABLE_LABEL, "conflicts"), rows)


@cases.command("show")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the case as JSON.")
@click.pass_context
def show_case(ctx: click.Context, case_id: int, as_json: bool) -> None:
    """One case: every field's value and where it came from."""
    app = get_app(ctx)
    case = app.cases.get(case_id)
    if as_json:
        echo_json(case_json(case))
        return
    status = case.status.replace("_", " ")
    click.echo(f"case {case.id}  {case.case_key}  [{status}]  registry id {case.registry_id}")
    click.echo(f"{len(case.records)} record(s)")
    rows = []
    for name, fv in case.fields.items():
        label, text = field_words(app.dictionary, name, fv.value)
        rows.append((label, name, text, provenance_text(fv, home=str(app.home.root))))
    if rows:
        click.echo(table(("field", "name", "value", "from"), rows))
    for conflict in case.conflicts:
        label, typed = field_words(app.dictionary, conflict.field, conflict.user_value)
        harvested = field_words(app.dictionary, conflict.field, conflict.harvested_value)[1]
        click.echo(f"conflict: {label}: typed {typed!r}, harvest says {harvested!r} "
                   f"(cases resolve {case.id} {conflict.field} --keep typed|harvested)")
    missing = split_missing(case, app.dictionary)
    click.echo(f"{CLINICAL_LABEL}: " + (", ".join(missing.clinical) or "nothing"))
    click.echo(f"{HARVESTABLE_LABEL}: " + (", ".join(missing.harvestable) or "nothing"))
    click.echo(cost_line(app, case))
    # Imported here: the registry client pulls in httpx and openpyxl, which every other
    # command would otherwise pay for at start-up.
    from printharvest.nrdr.outbox import registry_lines
    from printharvest.store.outbox import Outbox

    for line in registry_lines(Outbox(get_app(ctx).store), case.id):
        click.echo(line)


def cost_line(app: App, case: Case) -> str:
    """What the case cost the lab so far (the ledger), with the inputs it misses."""
    from printharvest.ledger.cost import case_total

    ledger = app.home.config.ledger
    return "cost: " + case_total(case, app.rules, ledger).text(ledger.currency)


@cases.command("set")
@click.argument("case_id", type=int)
@click.argument("assignments", nargs=-1, required=True, metavar="FIELD=VALUE...")
@click.option("--reason", default=None,
              help="Why a submitted or accepted case changes (it is sent again as an update); "
                   "asked for when not given.")
@click.pass_context
def set_fields(ctx: click.Context, case_id: int, assignments: tuple[str, ...],
               reason: str | None) -> int:
    """Type values: e.g. imaging.indication=surgical_planning effort.cad_clinician=1h30m.

    Values are read per element type (numbers, comma-separated lists, durations as 1h30m,
    90m, 1:30 or unknown, yes/no); FIELD= with nothing after it clears a typed value.
    """
    app = get_app(ctx)
    values: dict[str, Any] = {}
    errors: list[str] = []
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"{assignment!r}: expected FIELD=VALUE")
        name = name.strip()
        try:
            app.cases.check_field_name(name)
        except ValidationError as exc:
            raise click.UsageError(str(exc)) from exc
        ref = app.dictionary.resolve(name)
        assert ref is not None
        # The web form's rule: a value of the wrong type or outside the allowed values is
        # refused, and every refusal is reported, not only the first.
        try:
            value = parse_text(ref.element, text)
        except ValidationError as exc:
            errors.append(f"{name}: {exc.message}")
            continue
        problem = None if value is None else check_value(ref.element, value)
        if problem is not None:
            errors.append(f"{name}: {problem}")
            continue
        values[name] = value
    if errors:
        for line in errors:
            click.echo(f"error: {line}", err=True)
        raise ValidationError("cases set", f"{len(errors)} value(s) refused; nothing was set")
    case = app.cases.get(case_id)
    if case.status in RESEND_STATUSES and values and not reason:
        reason = _ask_reason(case)
    case = app.cases.set_values(case_id, values, actor(), reason)
    click.echo(f"case {case.id}: {len(values)} field(s) set; [{case.status}]; still needs "
               f"{len(case.missing)} field(s)")
    return 0


def _ask_reason(case: Case) -> str:
    """Editing a case the registry has: say it goes again as an update, and ask why."""
    click.echo(f"case {case.id} is {case.status} by the registry; changing it sends it again "
               "as an update.", err=True)
    return str(click.prompt("Reason for the change", default="", show_default=False,
                            err=True))


@cases.command("validate")
@click.argument("case_id", type=int)
@click.pass_context
def validate_case(ctx: click.Context, case_id: int) -> int:
    """Check a case against the dictionary: one line per problem, exit 1 if any."""
    problems = get_app(ctx).cases.validate(case_id)
    for problem in problems:
        click.echo(str(problem))
    if not problems:
        click.echo(f"case {case_id}: valid")
    return 1 if problems else 0


@cases.command("ready")
@click.argument("case_ids", type=int, nargs=-1, required=True, metavar="ID...")
@click.pass_context
def ready_case(ctx: click.Context, case_ids: tuple[int, ...]) -> int:
    """Mark cases ready for the registry (each only when it validates); exit 1 if any is not."""
    app = get_app(ctx)
    refused = 0
    for case_id in dict.fromkeys(case_ids):
        try:
            case = app.cases.mark_ready(case_id, actor())
        except CaseNotReadyError as exc:
            refused += 1
            click.echo(f"case {case_id} is not ready: {len(exc.problems)} problem(s)", err=True)
            for problem in exc.problems:
                click.echo(str(problem))
            continue
        except ValidationError as exc:  # an unknown id or a status that cannot become ready
            refused += 1
            click.echo(f"case {case_id}: {exc}", err=True)
            continue
        click.echo(f"case {case.id}: {case.status}")
    return 1 if refused else 0


@cases.command("resolve")
@click.argument("case_id", type=int)
@click.argument("field")
@click.option("--keep", type=click.Choice(["typed", "harvested"]), required=True,
              help="Keep the typed value, or drop it and take the harvested one.")
@click.pass_context
def resolve_conflict(ctx: click.Context, case_id: int, field: str, keep: str) -> None:
    """Settle a conflict between a typed and a harvested value."""
    case = get_app(ctx).cases.resolve_conflict(case_id, field, keep,  # type: ignore[arg-type]
                                               actor())
    click.echo(f"case {case.id}: {field} keeps the {keep} value; "
               f"{len(case.conflicts)} conflict(s) left")


@cases.command("log")
@click.argument("case_id", type=int)
@click.pass_context
def case_log(ctx: click.Context, case_id: int) -> None:
    """A case's audit log: who changed what, when."""
    entries = get_app(ctx).cases.audit(case_id)
    click.echo(table(("at", "who", "action", "field", "old", "new"),
                     [(e["at"], e["actor"], e["action"], e["field"], e["old"], e["new"])
                      for e in entries]))


@cases.command("count-print")
@click.argument("case_id", type=int)
@click.argument("record_id", type=int)
@click.option("--undo", is_flag=True, help="Stop counting it (it is listed as not counted).")
@click.pass_context
def count_print(ctx: click.Context, case_id: int, record_id: int, undo: bool) -> None:
    """Count a failed or aborted print as a registry print (its record id is in
    prints.not_counted of `cases show`), e.g. a reprint the lab calls the same print."""
    case = get_app(ctx).cases.count_print(case_id, record_id, actor(), count=not undo)
    counted = case.fields.get("prints.not_counted")
    click.echo(f"case {case.id}: record {record_id} "
               + ("no longer counts" if undo else "counts as a registry print")
               + f"; {len(counted.value) if counted else 0} print(s) not counted")
