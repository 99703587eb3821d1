"""Scanning what a flow wrote for planted tokens (test helper; the check itself is
``printharvest.privacy.phi.egress_check``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from printharvest.privacy.phi import egress_check


def scan_tree(root: Path, planted: Iterable[str]) -> dict[str, list[str]]:
    """Every file below ``root`` (names and bytes) that holds a planted token."""
    tokens = list(planted)
    hits: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        found = set(egress_check(str(path.relative_to(root)), tokens))
        if path.is_file():
            found.update(egress_check(path.read_bytes(), tokens))
        if found:
            hits[str(path)] = sorted(found)
    return hits
