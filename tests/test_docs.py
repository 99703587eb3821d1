"""Meta-tests: the docs name every connector, every command and exactly the public API."""

from __future__ import annotations

import re

import click

import printharvest
from printharvest.cli import cli
from printharvest.connectors.builtin import CONNECTORS
from printharvest.pollers.builtin import POLLERS
from tests.support.paths import REPO as ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))
TEXT = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *DOCS])


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command of the CLI as its words (``("cases", "list")``), groups included."""
    found: list[tuple[str, ...]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(command_paths(command, path))
    return found


def test_every_connector_id_is_documented() -> None:
    ids = sorted({c.id for c in CONNECTORS} | {p.id for p in POLLERS})
    missing = [i for i in ids if f"`{i}`" not in TEXT]
    assert not missing, f"connector ids not named (in backticks) in README.md or docs/: {missing}"


def test_every_cli_command_is_documented() -> None:
    paths = command_paths(cli)
    assert ("cases", "list") in paths and ("nrdr", "login") in paths  # the walk goes deep
    missing = [" ".join(p) for p in paths
               if not re.search(r"\b" + r"\s+".join(map(re.escape, p)) + r"\b",
                                _command_mentions())]
    assert not missing, f"commands not shown in README.md or docs/: {missing}"


def _command_mentions() -> str:
    """Text where commands are shown: ``printharvest ...`` lines and `code` spans."""
    lines = re.findall(r"printharvest(?:\s+--home\s+\S+)?\s+([^\n`]+)", TEXT)
    spans = re.findall(r"`([^`\n]+)`", TEXT)
    return "\n".join(lines + spans)


def test_public_api_is_exactly_what_the_docs_name() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = re.search(r"^## Public API\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert section, "docs/architecture.md has a 'Public API' section"
    # each bullet names its API items before its first ": " (continuation lines included)
    bullets = re.findall(r"^- (.*?)(?=^- |\Z)", section.group(1), re.MULTILINE | re.DOTALL)
    assert bullets
    named = {name for bullet in bullets
             for name in re.findall(r"`([A-Za-z_]+)`", bullet.split(": ", 1)[0])}
    assert named == set(printharvest.__all__)
    for name in printharvest.__all__:
        assert getattr(printharvest, name) is not None
