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
from printharvest.rules.anatomy import AnatomyRule, CodeRule

Check = tuple[str, Callable[[App], str]]


def _rules(app: App) -> str:
    rules = app.rules
    return (f"{len(rules.case_keys.rules)} case-key rule(s), {len(rules.printers.library)} "
            f"library printer(s), {len(rules.materials.materials)} material rule(s)")


class Warning_(Exception):
    """A check that passes but needs attention (shown as ``warn``, exit code unchanged)."""


def _dictionary(app: App) -> str:
    info = app.dictionary.dictionary
    text = f"{info.name} {info.version}, {len(app.dictionary.elements)} elements"
    if info.draft:
        # Cases checked against a draft may still be refused by the registry.
        raise Warning_(f"{text}: a DRAFT; replace it with the official dictionary from the "
                       "NRDR help desk (docs/dictionary.md)")
    return text


def _watch(app: App) -> str:
    from printharvest.cli.status_cmd import service_running
    from printharvest.store.journal import Journal

    beat = Journal(app.store).service()
    if service_running(app.home.root, beat):
        pid = f" (pid {beat.pid})" if beat is not None else ""
        return f"running{pid}"
    last = f"; last heartbeat {beat.beat_at}" if beat is not None else "; never ran here"
    raise Warning_(f"not running: dropped jobs wait until 'printharvest watch' runs{last}")


def _quarantine(app: App) -> str:
    folder = app.home.quarantine
    waiting = [p for p in folder.rglob("*") if p.is_file()
               and not p.name.endswith(".reason.txt")] if folder.is_dir() else []
    if waiting:
        raise Warning_(f"{len(waiting)} file(s) wait in {folder} (a .reason.txt beside each "
                       "says why)")
    return "empty"


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
    # Hints must be registry terms the dictionary accepts, else they would prefill invalid
    # fields.
    rules: list[AnatomyRule | CodeRule] = [*app.anatomy.keywords, *app.anatomy.codes]
    for rule in rules:
        for key in ("region", "subregion", "structure", "laterality"):
            element = app.dictionary.element(f"parts.{key}")
            value = getattr(rule, key)
            if value is not None and element is not None and element.values \
                    and value not in element.values:
                raise PrintharvestError(f"anatomy.yaml rule {rule.name}: {key} {value!r} is not "
                                        f"one of the dictionary's {', '.join(element.values)}")
    return (f"{len(app.anatomy.keywords)} anatomy keyword rule(s), "
            f"{len(app.anatomy.codes)} code rule(s)")


def _registry_files(app: App) -> str:
    # Every dictionary element must reach the registry by both ways, or a value would be
    # silently left out of the API payload or the upload file.
    from printharvest.registry.layout import LAYOUT_FILE, UploadLayout, expand, uncovered
    from printharvest.registry.mapping import MAPPING_FILE, NrdrMapping, unmapped

    mapping = NrdrMapping.load(app.home.rules_dir)
    layout = UploadLayout.load(app.home.rules_dir)
    gaps = [f"{MAPPING_FILE} has no key for {', '.join(lost)}"
            for lost in [unmapped(mapping, app.dictionary)] if lost]
    columns = []
    try:
        columns = expand(layout, app.dictionary)
        gaps += [f"{LAYOUT_FILE} has no column for {', '.join(lost)}"
                 for lost in [uncovered(columns, app.dictionary)] if lost]
        if not unmapped(mapping, app.dictionary):  # else the gap above says it already
            mapping.check(app.dictionary)
    except ConfigError as exc:
        gaps.append(str(exc))
    if gaps:
        raise ConfigError("; ".join(dict.fromkeys(gaps)))
    drafts = [n for n, draft in ((MAPPING_FILE, mapping.mapping.draft),
                                 (LAYOUT_FILE, layout.layout.draft)) if draft]
    return (f"every element mapped ({len(columns)} upload columns, {len(mapping.states)} "
            f"transaction states)" + (f"; DRAFT: {', '.join(drafts)}" if drafts else ""))


def printer_warnings(app: App) -> list[str]:
    """Prints whose printer label is not in the printer library (the registry refuses them)."""
    from printharvest.registry.printers import unknown_labels

    return [f"case {u.case_id}: {u.field} {u.label!r} is not in the printer library "
            "(rules/printers.yaml, as on the Manage 3D Printers page)"
            for u in unknown_labels(app.cases.list(), app.rules.printers.library)]


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
    ("registry files", _registry_files),
    ("connectors", _plugins),
    ("store", _store),
    ("watch service", _watch),
    ("quarantine", _quarantine),
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
        except Warning_ as exc:
            click.echo(f"warn  {name}: {exc}")
        except PrintharvestError as exc:
            failed += 1
            misconfigured = misconfigured or isinstance(exc, ConfigError)
            click.echo(f"FAIL  {name}: {exc}")
    try:
        warnings = printer_warnings(app)
    except PrintharvestError as exc:
        warnings = [str(exc)]
    for warning in warnings[:20]:
        click.echo(f"warn  printers: {warning}")
    if len(warnings) > 20:
        click.echo(f"warn  printers: ... and {len(warnings) - 20} more")
    try:
        reachable, text = registry_reachability(app)
        click.echo(f"{'ok  ' if reachable else 'warn'}  registry: {text}")
    except PrintharvestError as exc:
        failed += 1
        click.echo(f"FAIL  registry: {exc}")
    # A broken rules file is a configuration error (2), like for every other command.
    return 2 if misconfigured else (1 if failed else 0)
