"""``nrdr login|logout|status``, ``submit``, ``submissions``, ``nrdr-emulator``."""

from __future__ import annotations

import sys
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click
import httpx

from printharvest.app import App
from printharvest.cli._common import echo_json, get_app, table
from printharvest.cli.export_cmd import exporter_for
from printharvest.dictionary.elements import Dictionary
from printharvest.exceptions import ConfigError
from printharvest.nrdr.auth import Session, TokenClient, login
from printharvest.nrdr.client import NrdrClient
from printharvest.nrdr.config import NrdrEnvironment
from printharvest.nrdr.emulator import FAULT_KINDS, EmulatorState, Faults, start
from printharvest.nrdr.outbox import Submitter, registry_lines
from printharvest.nrdr.tokens import TokenStore
from printharvest.registry.mapping import NrdrMapping
from printharvest.store.outbox import Outbox

ENV_OPTION = click.option("--env", "env_name", default=None,
                          help="Registry environment from printharvest.yaml (default: nrdr: "
                               "environment).")


@dataclass
class Connection:
    """An environment, its token store and an HTTP client."""

    name: str
    env: NrdrEnvironment
    tokens: TokenStore
    http: httpx.Client


@contextmanager
def connect(app: App, env_name: str | None) -> Iterator[Connection]:
    """Open the configured environment (HTTPS checked) with an HTTP client."""
    settings = app.home.config.nrdr
    name, env = settings.current(env_name)
    tokens = TokenStore(app.home.root / "nrdr", settings.token_store)
    with httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False) as http:
        yield Connection(name, env, tokens, http)


@click.group("nrdr")
def nrdr() -> None:
    """Sign in to the registry (ACR Connect) and check the sign-in."""


@nrdr.command("login")
@ENV_OPTION
@click.option("--no-browser", is_flag=True, help="Print the sign-in address instead of "
                                                 "opening a browser.")
@click.pass_context
def nrdr_login(ctx: click.Context, env_name: str | None, no_browser: bool) -> None:
    """Sign in through ACR Connect (authorization code with PKCE) and keep the refresh token."""
    app = get_app(ctx)

    limit = app.home.config.nrdr.login_timeout_seconds

    def open_browser(url: str) -> None:
        click.echo(f"sign in at this address (if no browser opens, open it yourself):\n{url}")
        opened = False
        if not no_browser:
            try:
                opened = webbrowser.open(url)
            except webbrowser.Error:
                opened = False
        if not opened:
            click.echo("no browser was opened on this machine: open the address above in a "
                       "browser that can reach this machine.")
        click.echo(f"waiting up to {limit:g} s for the sign-in (nrdr: login_timeout_seconds)")
        sys.stdout.flush()

    def paste(url: str) -> str:
        return str(click.prompt("after signing in, paste the address the browser shows"))

    with connect(app, env_name) as conn:
        click.echo(f"signing in to '{conn.name}' ...")
        login(conn.name, conn.env, conn.http, conn.tokens, open_browser, paste,
              timeout=app.home.config.nrdr.login_timeout_seconds)
        click.echo(f"signed in to '{conn.name}'; the sign-in is kept in {conn.tokens.where}")


@nrdr.command("logout")
@ENV_OPTION
@click.pass_context
def nrdr_logout(ctx: click.Context, env_name: str | None) -> None:
    """Forget the stored sign-in."""
    with connect(get_app(ctx), env_name) as conn:
        conn.tokens.delete(conn.name)
        click.echo(f"signed out of '{conn.name}'")


@nrdr.command("secret")
@ENV_OPTION
@click.option("--forget", is_flag=True, help="Forget the stored client secret.")
@click.pass_context
def nrdr_secret(ctx: click.Context, env_name: str | None, forget: bool) -> None:
    """Keep the client secret ACR Connect issued (like the refresh token; never printed)."""
    with connect(get_app(ctx), env_name) as conn:
        if forget:
            conn.tokens.delete_client_secret(conn.name)
            click.echo(f"'{conn.name}': client secret forgotten")
            return
        secret = str(click.prompt("client secret", hide_input=True)).strip()
        if not secret:
            raise ConfigError("an empty client secret was not stored")
        conn.tokens.put_client_secret(conn.name, secret)
        click.echo(f"'{conn.name}': client secret kept in {conn.tokens.where}")


@nrdr.command("status")
@ENV_OPTION
@click.pass_context
def nrdr_status(ctx: click.Context, env_name: str | None) -> None:
    """Whether a sign-in is stored and still works (never prints a token)."""
    with connect(get_app(ctx), env_name) as conn:
        if not conn.tokens.get(conn.name):
            click.echo(f"'{conn.name}': not signed in (printharvest nrdr login)")
            return
        Session(TokenClient(conn.name, conn.env, conn.http, conn.tokens)).renew()
        click.echo(f"'{conn.name}': signed in, the registry accepted the stored sign-in")


@click.command("submit")
@click.argument("ids", nargs=-1, type=int)
@ENV_OPTION
@click.pass_context
def submit(ctx: click.Context, ids: tuple[int, ...], env_name: str | None) -> int:
    """Send ready cases (all, or IDS) to the registry through the outbox."""
    app = get_app(ctx)
    settings = app.home.config.nrdr
    exporter = exporter_for(app)
    with connect(app, env_name) as conn:
        session = Session(TokenClient(conn.name, conn.env, conn.http, conn.tokens))
        client = NrdrClient(conn.env, exporter.mapping().api, session, conn.http, settings)
        submitter = Submitter(exporter, client, conn.name, conn.env,
                              status_polls=settings.status_polls,
                              poll_wait=min(settings.retry_base_seconds, 2.0),
                              batch_size=settings.batch_size)
        # Progress and each retry as it happens (stderr, so stdout keeps the results).
        submitter.progress = lambda line: click.echo(line, err=True)
        client.on_retry = lambda attempt, most, wait, why: click.echo(
            f"  {why}; retrying in {wait:.1f} s (attempt {attempt + 1} of {most})", err=True)
        report = submitter.submit(ids)
    for case_id in report.accepted:
        click.echo(f"case {case_id}: accepted")
    for case_id in report.rejected:
        click.echo(f"case {case_id}: rejected (see `printharvest cases show {case_id}`)")
    for case_id in report.replaced:
        click.echo(f"case {case_id}: an older version was replaced by a newer transaction")
    for case_id in report.waiting:
        click.echo(f"case {case_id}: received, result not yet known (run submit again later)")
    for case_id, reason in report.failed:
        click.echo(f"case {case_id}: not sent yet, kept in the outbox: {reason}", err=True)
    for case_id, reason in report.skipped:
        click.echo(f"skipped case {case_id}: {reason}", err=True)
    if not (report.accepted or report.rejected or report.replaced or report.waiting
            or report.failed or report.skipped):
        click.echo("nothing to submit: no ready case")
    return 1 if report.failed or (ids and report.skipped) else 0


@click.command("submissions")
@click.option("--case", "case_id", type=int, default=None, help="Only this case, with messages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def submissions(ctx: click.Context, case_id: int | None, as_json: bool) -> None:
    """Registry transactions and their status."""
    app = get_app(ctx)
    outbox = Outbox(app.store)
    found = outbox.all_rows(case_id)
    if as_json:
        echo_json([{"case_id": r.case_id, "state": r.state, "transaction_id": r.transaction_id,
                    "environment": r.environment, "attempts": r.attempts,
                    "idempotency_key": r.idempotency_key, "batch": r.batch_key,
                    "registry_state": r.registry_state, "messages": r.messages,
                    "last_error": r.last_error, "updated_at": r.updated_at} for r in found])
        return
    if not found:
        click.echo("no submissions yet")
        return
    click.echo(table(("case", "state", "registry", "transaction", "env", "tries", "messages",
                      "updated"),
                     [(r.case_id, r.state, r.registry_state or "-", r.transaction_id or "-",
                       r.environment, r.attempts, len(r.messages), r.updated_at)
                      for r in found]))
    if case_id is not None:
        for line in registry_lines(outbox, case_id):
            click.echo(line)


@click.command("nrdr-emulator")
@click.option("--port", type=int, default=8780, show_default=True)
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of API requests that get a fault.")
@click.option("--faults", default=",".join(FAULT_KINDS), show_default=True,
              help="Fault kinds to draw from.")
@click.option("--latency", type=float, default=0.2, show_default=True,
              help="Seconds of delay for the latency fault.")
@click.option("--access-ttl", type=int, default=300, show_default=True,
              help="Access token lifetime, seconds.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible faults.")
@click.pass_context
def nrdr_emulator(ctx: click.Context, port: int, fault_rate: float, faults: str,
                  latency: float, access_ttl: int, seed: int | None) -> None:
    """A local registry on 127.0.0.1 speaking the NRDR protocol (sign-in, transactions)."""
    app = get_app(ctx)
    kinds = tuple(k.strip() for k in faults.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        raise ConfigError(f"unknown fault kind(s): {', '.join(unknown)} "
                          f"(known: {', '.join(FAULT_KINDS)})")
    state = _state(app.dictionary, NrdrMapping.load(app.home.rules_dir), access_ttl)
    state.set_faults(Faults(fault_rate, kinds or FAULT_KINDS, latency, seed))
    server = start(state, port)
    bound = server.server_address[1]
    click.echo(f"NRDR emulator on http://127.0.0.1:{bound} (Ctrl-C stops it)")
    click.echo(f"sign-in: http://127.0.0.1:{bound}/oauth2/authorize, API: "
               f"http://127.0.0.1:{bound}/api/3dp")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


def _state(dictionary: Dictionary, mapping: NrdrMapping, access_ttl: int) -> EmulatorState:
    mapping.check(dictionary)
    return EmulatorState(dictionary=dictionary, mapping=mapping, access_ttl=access_ttl)
