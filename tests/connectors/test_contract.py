"""Every registered built-in connector keeps the connector contract (printharvest.testing)."""

from __future__ import annotations

import pytest

from printharvest.harvest.plugins import PluginHost
from printharvest.testing import GOLDEN_SUFFIX, check_connector_contract
from tests.support.paths import SAMPLE_JOBS

BUILTINS = PluginHost.load(None, entry_points=False).connectors
SAMPLES = sorted(
    p for p in SAMPLE_JOBS.rglob("*")
    if p.is_file() and not p.name.endswith(GOLDEN_SUFFIX) and not p.name.startswith("README")
)


def test_there_are_builtins_and_samples() -> None:
    assert len(BUILTINS) >= 3
    assert len(SAMPLES) >= 5


@pytest.mark.parametrize("connector_id", sorted(BUILTINS))
def test_builtin_connector_keeps_the_contract(connector_id: str) -> None:
    connector_cls = type(BUILTINS[connector_id].connector)
    report = check_connector_contract(connector_cls, samples=SAMPLES)
    # Garbage and the other formats' samples are checked too.
    assert len(report.scores) > len(SAMPLES)


def test_every_sample_is_claimed_by_some_builtin() -> None:
    """Every sample is read by a built-in (a zip container through its members)."""
    from printharvest.harvest.harvester import Harvester
    from printharvest.rules.lab import Rules

    harvester = Harvester(PluginHost.load(None, entry_points=False), Rules.load(None))
    unclaimed = []
    for path in SAMPLES:
        if path.suffix in (".py", ".md"):
            continue
        outcome = harvester.harvest_paths([path], grouping="root")
        if not outcome.records or any(e.reason == "no connector recognises this file"
                                      for e in outcome.errors):
            unclaimed.append(path.relative_to(SAMPLE_JOBS).as_posix())
    assert unclaimed == []
