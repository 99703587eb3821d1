"""Rules and configuration that change while the inbox service runs.

The service looks at a fingerprint (name, size, mtime) of ``printharvest.yaml``, the rules
folder and the drop-in connectors folder every :data:`CHECK_SECONDS`, and on SIGHUP. When it
changed, the files are copied into a snapshot (``<home>/.rules-in-use/<n>/``) and the copy is
loaded and checked; only if it loads do the service and its harvest workers switch to it
(workers are recycled between tasks). So a half-saved or broken edit is logged with its file
and line, and everything keeps running on the last rules that loaded, even a worker that
starts after the broken edit.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from printharvest.config import CONFIG_NAME, Config, Home
from printharvest.dictionary.elements import Dictionary
from printharvest.exceptions import ConfigError
from printharvest.rules.anatomy import AnatomyRules
from printharvest.rules.lab import Rules
from printharvest.rules.yamlfile import validate_yaml

CHECK_SECONDS = 2.0
MAX_FILES = 2000
"""At most this many files are fingerprinted per folder (rules folders are small)."""
SNAPSHOTS = ".rules-in-use"
KEEP_SNAPSHOTS = 3
"""Older snapshots are removed; a worker still busy with the previous one keeps it."""
SNAPSHOT_ENV = "PRINTHARVEST_RULES_SNAPSHOT"
"""Tells a harvest worker which snapshot to load instead of the home's own files."""

Fingerprint = tuple[tuple[str, int, int], ...]


def live_home(root: Path) -> tuple[Path, Path]:
    """The rules and connectors folders the lab edits (defaults if the config is broken)."""
    try:
        home = Home.open(root)
    except ConfigError:
        return root / "rules", root / "connectors"
    return home.rules_dir, home.connectors_dir


def fingerprint(root: Path) -> Fingerprint:
    """Name, size and mtime of the configuration, rules and connector files of a home."""
    found: list[tuple[str, int, int]] = []
    paths = [root / CONFIG_NAME]
    for folder in live_home(root):
        paths.extend(_files(folder))
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        found.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


def _files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
        if len(found) >= MAX_FILES:
            break
    return found[:MAX_FILES]


def snapshot_home(root: Path, snapshot: Path) -> Home:
    """The home at ``root`` with its configuration and rules taken from ``snapshot``."""
    path = snapshot / CONFIG_NAME
    config = validate_yaml(Config, path) if path.is_file() else Config()
    return Home(root, config.model_copy(update={"rules_dir": snapshot / "rules"}))


def take_snapshot(root: Path) -> tuple[Home, Path]:
    """Copy the configuration and rules, load and check the copy; ConfigError (naming the
    lab's file) when it does not load, and then nothing changed."""
    rules_dir, _ = live_home(root)
    base = root / SNAPSHOTS
    base.mkdir(parents=True, exist_ok=True)
    target = base / str(time.time_ns())
    tmp = base / f".{target.name}.tmp"
    try:
        tmp.mkdir()
        if (root / CONFIG_NAME).is_file():
            shutil.copy2(root / CONFIG_NAME, tmp / CONFIG_NAME)
        if rules_dir.is_dir():
            shutil.copytree(rules_dir, tmp / "rules", ignore=shutil.ignore_patterns(".*"))
        else:
            (tmp / "rules").mkdir()
        os.replace(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(f"{rules_dir}: cannot copy the rules ({exc})") from exc
    try:
        home = snapshot_home(root, target)
        for loader in (Rules.load, AnatomyRules.load, Dictionary.load):
            loader(home.rules_dir)
    except ConfigError as exc:
        shutil.rmtree(target, ignore_errors=True)
        # Name the lab's own file, not the copy.
        raise ConfigError(str(exc).replace(str(target / "rules"), str(rules_dir))
                          .replace(str(target / CONFIG_NAME), str(root / CONFIG_NAME))) from exc
    _prune(base)
    return home, target


def _prune(base: Path) -> None:
    snapshots = sorted((p for p in base.iterdir() if p.name.isdigit()),
                       key=lambda p: int(p.name))
    for old in snapshots[:-KEEP_SNAPSHOTS]:
        shutil.rmtree(old, ignore_errors=True)
