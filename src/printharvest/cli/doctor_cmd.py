"""``doctor``: configuration, rules, plugins and store, checked in one go."""

from __future__ import annotations

from collections.abc import Callable

import click

from ..app import App
from ..config import Home
from ..exceptions import PrintharvestError
from ._common import _LazyApp

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
    if host.failures:
        details = "; ".join(f"{f.origin}: {f.reason}" for f in host.failures)
        raise PrintharvestError(f"{text}; {len(host.failures)} failed: {details}")
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
    """Check the configuration, rules, connectors and store; exit 1 if anything is wrong."""
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
    for name, check in CHECKS:
        try:
            click.echo(f"ok    {name}: {check(app)}")
        except PrintharvestError as exc:
            failed += 1
            click.echo(f"FAIL  {name}: {exc}")
    return 1 if failed else 0
