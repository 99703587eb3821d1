"""``connectors new`` and ``connectors test``: the connector kit for lab engineers."""

from __future__ import annotations

from pathlib import Path

import click

from printharvest.cli._common import echo_json, get_app, table
from printharvest.cli.harvest_cmd import describe
from printharvest.connectors.probe import FileProbe, probe_file
from printharvest.connectors.skeleton import SkeletonError, write_skeleton
from printharvest.exceptions import HarvestError, PrintharvestError
from printharvest.harvest.notices import load_notices
from printharvest.harvest.plugins import MIN_SCORE, LoadedConnector, PluginHost, records_of
from printharvest.models import HarvestRecord
from printharvest.rules.lab import Rules

SHOWN_RECORDS = 20


@click.command("new")
@click.argument("name")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.pass_context
def new_connector(ctx: click.Context, name: str, force: bool) -> None:
    """Write a working skeleton connector NAME, a sample and a test into the connectors folder."""
    folder = get_app(ctx).home.connectors_dir
    try:
        written = write_skeleton(folder, name, force=force)
    except SkeletonError as exc:
        raise click.UsageError(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {path}")
    module = written[0]
    click.echo(
        "\nnext:\n"
        f"  printharvest connectors list            # '{name}' is loaded from {module.name}\n"
        f"  printharvest connectors test {written[1]}\n"
        f"  pytest {written[2]}\n"
        "then edit detect() and harvest() for your printer's files (docs/connectors.md)."
    )


@click.command("test")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the winners' records as JSON.")
@click.option("--poller", "poller_id", metavar="NAME",
              help="Run one poll of the poller NAME against a recorded HTTP exchange.")
@click.option("--exchange", type=click.Path(dir_okay=False, path_type=Path),
              help="The recorded exchange (JSON) for --poller, replayed on 127.0.0.1.")
@click.pass_context
def test_connectors(ctx: click.Context, files: tuple[Path, ...], as_json: bool,
                    poller_id: str | None, exchange: Path | None) -> int:
    """Show every connector's score for each FILE, the winner, and what the winner harvests.

    With --poller NAME --exchange FILE: run one poll of that poller against the recorded
    HTTP exchange and show the records and the cursor it returns.
    """
    if not files and poller_id is None:
        raise click.UsageError("give FILE... or --poller NAME --exchange FILE")
    if (poller_id is None) != (exchange is None):
        raise click.UsageError("--poller and --exchange go together")
    app = get_app(ctx)
    app.read_only = True
    host = app.host
    _show_load_problems(host, app.home.rules_dir)
    failed = 0
    records_json: list[dict[str, object]] = []
    if poller_id is not None and exchange is not None:
        ok, records = _test_poller(host, app.rules, poller_id, exchange)
        failed += 0 if ok else 1
        records_json.extend(r.to_json_dict() for r in records)
    for path in files:
        click.echo(f"\n{path}")
        ok, records = _test_one(host, app.rules, path)
        failed += 0 if ok else 1
        if as_json:
            records_json.extend(r.to_json_dict() for r in records)
    if as_json:
        echo_json(records_json)
    if failed:
        click.echo(f"\n{failed} of {len(files) + (poller_id is not None)} test(s) had no "
                   "winner or failed", err=True)
    return 1 if failed else 0


def _test_poller(host: PluginHost, rules: Rules, poller_id: str,
                 exchange: Path) -> tuple[bool, list[HarvestRecord]]:
    """One poll against the recorded exchange; its records (rules applied) and cursor."""
    from printharvest.testing.pollers import poll_recorded

    click.echo(f"\npoller {poller_id} against {exchange}")
    loaded = host.pollers.get(poller_id)
    if loaded is None:
        state = "switched off" if poller_id in host.disabled else "not installed"
        known = ", ".join(sorted(host.pollers)) or "none"
        click.echo(f"  error: poller {poller_id!r} is {state} (installed: {known})", err=True)
        return False, []
    try:
        batch, requests = poll_recorded(loaded.poller, exchange)
    except PrintharvestError as exc:
        click.echo(f"  error: {exc}", err=True)
        return False, []
    except Exception as exc:  # the author's bug: name it on one line
        click.echo(f"  error: poller {poller_id} failed ({type(exc).__name__}); poll must "
                   "return a PollBatch or raise PollerError", err=True)
        return False, []
    for request in requests:
        click.echo(f"  {request}")
    try:
        records = records_of(poller_id, str(exchange), list(batch.records))
    except HarvestError as exc:
        click.echo(f"  error: {exc.reason}", err=True)
        return False, []
    for record in records:
        key, _ = rules.case_key(tuple(record.source.path.removeprefix("poller://").split("/")))
        record.case_key = key
        rules.enrich(record)
    click.echo(f"  {poller_id} returned {len(records)} record(s), cursor {batch.cursor!r}:")
    for record in records[:SHOWN_RECORDS]:
        click.echo("    " + describe(record).replace("\n", "\n    "))
    return True, records


def _show_load_problems(host: PluginHost, rules_dir: Path | None) -> None:
    for line in load_notices(host):
        click.echo(line, err=True)


def _test_one(host: PluginHost, rules: Rules, path: Path) -> tuple[bool, list[HarvestRecord]]:
    if not path.is_file():
        click.echo("  error: not a file", err=True)
        return False, []
    try:
        probe = probe_file(path)
    except HarvestError as exc:
        click.echo(f"  error: {exc.reason}", err=True)
        return False, []
    scores = host.scores(probe)
    winner = scores[0].connector if scores and scores[0].score >= MIN_SCORE else None
    rows = [("*" if s.connector is winner else " ", s.connector.id, f"{s.score:.3f}",
             s.connector.route, s.error or "") for s in scores]
    click.echo("  " + table(("", "connector", "score", "route", "detect error"), rows)
               .replace("\n", "\n  "))
    if winner is None:
        click.echo(f"  error: no connector scores {MIN_SCORE} or more", err=True)
        return False, []
    tied = [s.connector.id for s in scores[1:] if s.score == scores[0].score]
    if tied:
        click.echo(f"  note: {', '.join(tied)} {'scores' if len(tied) == 1 else 'score'} "
                   f"{scores[0].score:.3f} too; {winner.id} wins only by the tie-break "
                   "(route: drop-in, then entry point, then built-in; then the lower id). "
                   "Make one detect surer, or switch one off (disabled_connectors).")
    try:
        records = _harvest(winner, probe)
    except HarvestError as exc:
        click.echo(f"  error: {winner.id}: {exc.reason}", err=True)
        return False, []
    key, _ = rules.case_key(probe.relative_parts)
    for record in records:
        record.case_key = key
        rules.enrich(record)
    click.echo(f"  {winner.id} harvested {len(records)} record(s):")
    for record in records[:SHOWN_RECORDS]:
        click.echo("    " + describe(record).replace("\n", "\n    "))
    if len(records) > SHOWN_RECORDS:
        click.echo(f"    ... and {len(records) - SHOWN_RECORDS} more (--json shows all)")
    return True, records


def _harvest(loaded: LoadedConnector, probe: FileProbe) -> list[HarvestRecord]:
    """Harvest with the winner, turning any failure into a one-line HarvestError."""
    connector = loaded.connector
    try:
        if connector.collective:
            raw: object = connector.harvest_collection([probe])
        else:
            raw = connector.harvest(probe)
        return records_of(loaded.id, probe.display_path, raw)
    except HarvestError:
        raise
    except Exception as exc:  # the author's bug: say what it was, on one line
        raise HarvestError(probe.display_path,
                           f"harvest crashed: {type(exc).__name__}: {exc}"[:300]) from exc
