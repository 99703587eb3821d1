"""Every sample with a golden file harvests to exactly its golden JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from printharvest.testing import GOLDEN_SUFFIX, golden_records
from tests.support.paths import SAMPLE_JOBS

GOLDENS = sorted(SAMPLE_JOBS.rglob("*" + GOLDEN_SUFFIX))


def test_there_are_goldens() -> None:
    assert len(GOLDENS) >= 4


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda p: p.relative_to(SAMPLE_JOBS).as_posix())
def test_sample_matches_golden(golden: Path) -> None:
    sample = golden.with_name(golden.name[: -len(GOLDEN_SUFFIX)])
    assert sample.is_file(), f"golden without its sample: {golden}"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert golden_records(sample, SAMPLE_JOBS) == expected
