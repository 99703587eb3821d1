"""The root command group, the App it hands to commands, and small output helpers."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from printharvest.app import App
from printharvest.exceptions import ConfigError, HarvestError
from printharvest.harvest.names import shown


class LazyGroup(click.Group):
    """A command group whose commands are imported the first time they are asked for.

    ``lazy_commands`` maps a command name to ``"module:attribute"`` inside this package.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, loaded or not."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module on first use."""
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[cmd_name].split(":")
            module = importlib.import_module(f"{__package__}.{module_name}")
            self.add_command(getattr(module, attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              envvar="PRINTHARVEST_HOME",
              help="The printharvest home folder (default: a per-user data folder).")
@click.version_option(package_name="printharvest")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """printharvest: prefilled ACR-RSNA 3D Printing Registry cases from your lab's files."""
    ctx.obj = _LazyApp(home)


LOOK_ONLY = frozenset({"inspect", "connectors", "nrdr-emulator"})
"""Commands that only look (they write nothing into a home), so a home need not exist."""


def _command_name() -> str:
    """The top-level command being run (``cases`` for ``cases show``)."""
    ctx: click.Context | None = click.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return names[-2] if len(names) >= 2 else ""


class _LazyApp:
    """Opens the App only when a command asks for it (so --help works on a broken config)."""

    def __init__(self, home: Path | None) -> None:
        self.root = home
        self._app: App | None = None

    def get(self) -> App:
        if self._app is None:
            if (self.root is not None and not self.root.is_dir()
                    and _command_name() not in LOOK_ONLY):
                # A typo in --home must not quietly make an empty store ("no cases yet"):
                # only init and demo make a home, and they do not come through here.
                raise ConfigError(f"no printharvest home at {self.root} (a typo? "
                                  f"'printharvest --home {self.root} init' makes one)")
            self._app = App.open(self.root)
            click.get_current_context().call_on_close(self._app.close)
        return self._app


def get_app(ctx: click.Context) -> App:
    """The App for the current command."""
    lazy = ctx.find_object(_LazyApp)
    assert lazy is not None
    return lazy.get()


def set_app(ctx: click.Context, app: App) -> None:
    """Use ``app`` for the rest of this invocation (the demo's throw-away home)."""
    lazy = ctx.find_object(_LazyApp)
    assert lazy is not None
    lazy._app = app
    ctx.call_on_close(app.close)


def echo_json(data: Any) -> None:
    """Print JSON (stable key order, UTF-8)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def report_errors(errors: Sequence[HarvestError]) -> int:
    """Print one line per failed input on stderr; return the exit code (1 if any)."""
    for error in errors:
        click.echo(f"error: {shown(str(error))}", err=True)
    return 1 if errors else 0


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain, aligned text table."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_where(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
                ) -> dict[str, str]:
    """``--where FIELD=VALUE`` options into {field: value} (a click callback)."""
    where: dict[str, str] = {}
    for condition in values:
        field, sep, value = condition.partition("=")
        if not sep or not field.strip() or not value.strip():
            raise click.BadParameter(f"{condition!r}: write FIELD=VALUE", ctx, param)
        where[field.strip()] = value.strip()
    return where
