"""Test helpers for connector authors: golden samples, importable by a lab's own package.

A golden file ``X.expected.json`` beside a sample ``X`` holds what ``printharvest inspect
--json X`` prints, with each ``source.path`` made relative to the samples root. Regenerate::

    uv run python -m printharvest.testing golden sample_jobs/formats/<family>/<file> ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .harvest import Harvester, HarvestOutcome
from .plugins import PluginHost
from .rules import Rules

GOLDEN_SUFFIX = ".expected.json"


def golden_path(sample: Path) -> Path:
    """Where the golden file of ``sample`` lives."""
    return sample.with_name(sample.name + GOLDEN_SUFFIX)


def harvest_sample(sample: Path, root: Path, host: PluginHost | None = None) -> HarvestOutcome:
    """Harvest one sample file with the given (default: built-in) connectors and rules."""
    harvester = Harvester(host or PluginHost.load(None, entry_points=False), Rules.load(None))
    return harvester.harvest_paths([sample], grouping="root")


def golden_records(
    sample: Path, root: Path, host: PluginHost | None = None
) -> list[dict[str, Any]]:
    """The records of ``sample`` as golden JSON (paths relative to ``root``)."""
    outcome = harvest_sample(sample, root, host)
    if outcome.errors:
        raise AssertionError("; ".join(str(e) for e in outcome.errors))
    relative = sample.resolve().relative_to(root.resolve()).as_posix()
    records = [r.to_json_dict() for r in outcome.records]
    for record in records:
        shown = record["source"]["path"]
        record["source"]["path"] = relative + shown[len(str(sample)):]
    return records


def write_golden(sample: Path, root: Path) -> Path:
    """Write (or overwrite) the golden file of ``sample``."""
    target = golden_path(sample)
    text = json.dumps(golden_records(sample, root), indent=2, ensure_ascii=False) + "\n"
    target.write_text(text, encoding="utf-8")
    return target


def _main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "golden":
        print("usage: python -m printharvest.testing golden SAMPLE...", file=sys.stderr)
        return 2
    for name in argv[1:]:
        sample = Path(name)
        root = next((p for p in sample.resolve().parents if p.name == "sample_jobs"), None)
        if root is None:
            print(f"{sample}: not below a sample_jobs folder", file=sys.stderr)
            return 2
        print(f"wrote {write_golden(sample, root)}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
