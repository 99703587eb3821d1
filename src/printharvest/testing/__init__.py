"""Test helpers for connector authors, importable by a lab's own connector package.

Contract checks (the same the built-in connectors pass, see :mod:`printharvest.testing.contract`)::

    from printharvest.testing import check_connector_contract, check_golden

    def test_contract():
        check_connector_contract(MyConnector, samples=[Path("tests/samples/job1.log")])

    def test_golden():
        check_golden(Path("tests/samples/job1.log"), root=Path("tests/samples"))

Pollers are checked against a recorded HTTP exchange, replayed on 127.0.0.1
(:mod:`printharvest.testing.pollers`, :mod:`printharvest.testing.replay`)::

    check_poller_contract(MyPoller, Path("tests/exchange.json"))

A golden file ``X.expected.json`` beside a sample ``X`` holds what ``printharvest inspect
--json X`` prints, with each ``source.path`` made relative to the samples root. Regenerate::

    uv run python -m printharvest.testing golden sample_jobs/formats/<family>/<file> ...
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from printharvest.harvest.harvester import Harvester, HarvestOutcome
from printharvest.harvest.plugins import PluginHost
from printharvest.rules.lab import Rules
from printharvest.testing.contract import ContractReport, check_connector_contract, garbage_inputs
from printharvest.testing.pollers import PollerReport, check_poller_contract, poll_recorded
from printharvest.testing.replay import Exchange, replay_server

__all__ = [
    "GOLDEN_SUFFIX",
    "ContractReport",
    "Exchange",
    "PollerReport",
    "check_connector_contract",
    "check_golden",
    "check_poller_contract",
    "garbage_inputs",
    "golden_path",
    "golden_records",
    "harvest_sample",
    "poll_recorded",
    "replay_server",
    "write_golden",
]

GOLDEN_SUFFIX = ".expected.json"


def golden_path(sample: Path) -> Path:
    """Where the golden file of ``sample`` lives."""
    return sample.with_name(sample.name + GOLDEN_SUFFIX)


def harvest_sample(sample: Path, root: Path, host: PluginHost | None = None) -> HarvestOutcome:
    """Harvest one sample file with the given (default: built-in) connectors and rules.

    The shipped rules are used, including the shipped job-log column maps only.
    """
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


def check_golden(sample: Path, root: Path, host: PluginHost | None = None) -> None:
    """Assert that ``sample`` harvests to exactly its golden file (names the first difference)."""
    golden = golden_path(sample)
    if not golden.is_file():
        raise AssertionError(f"{sample}: no golden file {golden.name} (write one with "
                             "'python -m printharvest.testing golden SAMPLE')")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    actual = golden_records(sample, root, host)
    if actual != expected:
        raise AssertionError(f"{sample}: differs from {golden.name}: "
                             f"{_first_difference(expected, actual)}")


def _first_difference(expected: Any, actual: Any, where: str = "") -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key, "<missing>") != actual.get(key, "<missing>"):
                return _first_difference(expected.get(key, "<missing>"),
                                         actual.get(key, "<missing>"), f"{where}.{key}")
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{where or '(top)'}: {len(expected)} item(s) expected, got {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if e != a:
                return _first_difference(e, a, f"{where}[{i}]")
    return f"{where or '(top)'}: expected {expected!r}, got {actual!r}"[:300]


def write_golden(sample: Path, root: Path) -> Path:
    """Write (or overwrite) the golden file of ``sample``."""
    target = golden_path(sample)
    text = json.dumps(golden_records(sample, root), indent=2, ensure_ascii=False) + "\n"
    target.write_text(text, encoding="utf-8")
    return target
