"""Bad input never crashes a G-code connector: truncated or damaged copies of every sample
either harvest (possibly with warnings) or fail with a one-line HarvestError."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from printharvest.connectors.probe import probe_file
from printharvest.exceptions import HarvestError
from printharvest.harvest.plugins import PluginHost
from tests.support.paths import SAMPLE_JOBS

SAMPLES = sorted(p for p in (SAMPLE_JOBS / "formats").glob("*/*")
                 if p.suffix not in (".json", ".md", ".py"))


def damaged(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = [len(data) // 2, len(data) // 7, 12, len(data) - 5]
    copies = [data[:c] for c in cuts if 0 < c < len(data)]
    for _ in range(3):
        flipped = bytearray(data)
        for _ in range(8):
            i = rng.randrange(len(flipped))
            flipped[i] ^= 0xFF
        copies.append(bytes(flipped))
    return copies


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_damaged_samples_harvest_or_fail_cleanly(tmp_path: Path, sample: Path) -> None:
    host = PluginHost.load(None, entry_points=False)
    data = sample.read_bytes()
    for n, copy in enumerate(damaged(data, len(data))):
        path = tmp_path / f"{n}{''.join(sample.suffixes)}"
        path.write_bytes(copy)
        probe = probe_file(path)
        winner = host.select(probe)
        if winner is None:
            continue
        try:
            records = winner.connector.harvest(probe)
        except HarvestError as exc:
            assert "\n" not in str(exc)
            continue
        for record in records:
            assert record.print_time_s is None or record.print_time_s >= 0
