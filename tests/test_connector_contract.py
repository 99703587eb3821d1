"""Every registered built-in connector keeps the connector contract (printharvest.testing)."""

from __future__ import annotations

import pytest

from printharvest.plugins import PluginHost
from printharvest.testing import GOLDEN_SUFFIX, check_connector_contract

from .conftest import SAMPLE_JOBS

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
    host = PluginHost.load(None, entry_points=False)
    from printharvest.probe import probe_file

    unclaimed = [p.relative_to(SAMPLE_JOBS).as_posix() for p in SAMPLES
                 if p.suffix not in (".py", ".md") and host.select(probe_file(p)) is None]
    assert unclaimed == []
