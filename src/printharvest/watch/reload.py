"""Rules and configuration that change while the inbox service runs.

The service looks at a fingerprint (name, size, mtime) of ``printharvest.yaml``, the rules
folder and the drop-in connectors folder every :data:`CHECK_SECONDS`, and on SIGHUP. When it
changed, the new files are loaded and checked *first*; only if they load does the service
switch to them (and its harvest workers are recycled, so the next job is read with them).
A broken edit is logged with its file and line, and the service keeps the rules it had.
"""

from __future__ import annotations

import os
from pathlib import Path

from printharvest.app import App
from printharvest.config import CONFIG_NAME, Home
from printharvest.dictionary.elements import Dictionary
from printharvest.rules.anatomy import AnatomyRules
from printharvest.rules.lab import Rules

CHECK_SECONDS = 2.0
MAX_FILES = 2000
"""At most this many files are fingerprinted per folder (rules folders are small)."""

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(home: Home) -> Fingerprint:
    """Name, size and mtime of the configuration, rules and connector files."""
    found: list[tuple[str, int, int]] = []
    paths = [home.root / CONFIG_NAME]
    for folder in (home.rules_dir, home.connectors_dir):
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


def load_checked(app: App) -> Home:
    """The home's configuration and rules, loaded afresh; ConfigError names what is wrong.

    Nothing in ``app`` changes here: a broken edit leaves the running service as it was.
    """
    home = Home.open(app.home.root)
    Rules.load(home.rules_dir)
    AnatomyRules.load(home.rules_dir)
    Dictionary.load(home.rules_dir)
    return home
