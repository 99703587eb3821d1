"""``init``: write a commented printharvest.yaml and the editable rules into the home."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from printharvest.config import CONFIG_NAME, DEFAULT_CONFIG_TEXT, Home, default_home
from printharvest.privacy.files import private_dir
from printharvest.rules.shipped import shipped_rules


@click.command()
@click.option("--force", is_flag=True, help="Overwrite printharvest.yaml and rules files.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Create the home: configuration, rules, inbox, archive, quarantine, exports."""
    root: Path = (ctx.parent.params.get("home") if ctx.parent else None) or default_home()
    written = init_home(root, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"home ready at {root.resolve()}; drop jobs into {Home.open(root).inbox}")


def init_home(root: Path, *, force: bool = False) -> list[Path]:
    """Write the default configuration and copy the shipped rules; return what was written."""
    root = root.expanduser()
    private_dir(root)  # the home holds local paths and case keys: the owner's alone
    written: list[Path] = []
    config_path = root / CONFIG_NAME
    if force or not config_path.exists():
        config_path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
        written.append(config_path)
    home = Home.open(root)
    source = shipped_rules()
    for path in sorted(source.rglob("*.yaml")):
        target = home.rules_dir / path.relative_to(source)
        if force or not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            written.append(target)
    home.ensure()
    return written
