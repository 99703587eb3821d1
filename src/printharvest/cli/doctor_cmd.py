"""``doctor``: configuration, rules, plugins and store, checked in one go."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import click

from printharvest.app import App
from printharvest.cli._common import _LazyApp
from printharvest.config import Home
from printharvest.exceptions import ConfigError, PrintharvestError
from printharvest.harvest.notices import load_notices

Check = tuple[str, Callable[[App], str]]


def _rules(app: App) -> str:
    rules = app.rules
    return (f"{len(rules.case_keys.rules)} case-key rule(s), {len(rules.printers.library)} "
            f"library printer(s), {len(rules.materials.materials)} material rule(s)")


def _dictionary(app: App) -> str:
    info = app.dictionary.dictionary
    draft = " (DRAFT: replace with the official dictionary)" if info.draft else ""
    return f"{info.name} {info.version}, {len(app.dictionary.elements)} elements{draft}"


def _plugins(app: App) -> str:
    host = app.host
    text = f"{len(host.connectors)} connector(s), {len(host.pollers)} poller(s)"
    if host.disabled:
        text += f", {len(host.disabled)} switched off ({', '.join(sorted(host.disabled))})"
    notices = load_notices(host)  # failed connectors, broken column maps, unknown ids
    if notices:
        raise PrintharvestError(f"{text}; {len(notices)} problem(s): {'; '.join(notices)}")
    return text


def _store(app: App) -> str:
    store = app.store
    return f"{store.path} ({len(store.case_rows())} case(s), {store.record_count()} record(s))"


def _anatomy(app: App) -> str:
    # Hints must be values the dictionary accepts, else they would prefill invalid fields.
    for rule in app.anatomy.keywords:
        for key in ("region", "laterality"):
            element = app.dictionary.element(f"parts.{key}")
            value = getattr(rule, key)
            if value is not None and element is not None and element.values \
                    and value not in element.values:
                raise PrintharvestError(f"anatomy.yaml rule {rule.name}: {key} {value!r} is not "
                                        f"one of the dictionary's {', '.join(element.values)}")
    return f"{len(app.anatomy.keywords)} anatomy keyword rule(s)"


def registry_reachability(app: App, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether the configured NRDR environment answers at all (any HTTP status counts).

    Only reachability: no sign-in, no credentials sent. Not reaching it is a warning, not a
    failure: exports work offline, and the local emulator runs only when started.
    """
    import httpx

    name, environment = app.home.config.nrdr.current()
    try:
        httpx.get(environment.api_base, timeout=timeout)
    except httpx.HTTPError as exc:
        port = urlsplit(environment.api_base).port
        hint = (f" (start it: printharvest nrdr-emulator --port {port})"
                if name == "emulator" else "")
        return False, (f"{name} at {environment.api_base} not reachable "
                       f"({type(exc).__name__}){hint}")
    return True, f"{name} at {environment.api_base} answers"


CHECKS: list[Check] = [
    ("rules", _rules),
    ("anatomy", _anatomy),
    ("dictionary", _dictionary),
    ("connectors", _plugins),
    ("store", _store),
]


@click.command()
@click.pass_context
def doctor(ctx: click.Context) -> int:
    """Check configuration, rules, connectors, store and registry; exit 1 if anything is wrong.

    An unreachable registry is reported as a warning only (exports work without it).
    """
    lazy = ctx.find_object(_LazyApp)
    assert lazy is not None
    try:
        home = Home.open(lazy.root)
    except PrintharvestError as exc:
        click.echo(f"FAIL  configuration: {exc}")
        return 2
    click.echo(f"ok    configuration: {home.config_path}"
               + ("" if home.config_path.exists() else " (not written yet: defaults in use)"))
    app = lazy.get()
    failed = 0
    misconfigured = False
    for name, check in CHECKS:
        try:
            click.echo(f"ok    {name}: {check(app)}")
        except PrintharvestError as exc:
            failed += 1
            misconfigured = misconfigured or isinstance(exc, ConfigError)
            click.echo(f"FAIL  {name}: {exc}")
    try:
        reachable, text = registry_reachability(app)
        click.echo(f"{'ok  ' if reachable else 'warn'}  registry: {text}")
    except PrintharvestError as exc:
        failed += 1
        click.echo(f"FAIL  registry: {exc}")
    # A broken rules file is a configuration error (2), like for every other command.
    return 2 if misconfigured else (1 if failed else 0)
