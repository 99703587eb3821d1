"""Every sample with a golden file harvests to exactly its golden JSON.

Goldens sit beside their sample (``sample_jobs/formats/``), or, for the demo job folders that
must drop into an inbox as they are, under ``tests/golden/`` at the sample's path below
``sample_jobs/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from printharvest.testing import GOLDEN_SUFFIX, golden_records
from tests.support.paths import SAMPLE_JOBS

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
GOLDENS = sorted([*SAMPLE_JOBS.rglob("*" + GOLDEN_SUFFIX), *GOLDEN_DIR.rglob("*" + GOLDEN_SUFFIX)])


def _sample_of(golden: Path) -> Path:
    base = golden.with_name(golden.name[: -len(GOLDEN_SUFFIX)])
    if golden.is_relative_to(GOLDEN_DIR):
        return SAMPLE_JOBS / base.relative_to(GOLDEN_DIR)
    return base


def _id(golden: Path) -> str:
    return _sample_of(golden).relative_to(SAMPLE_JOBS).as_posix()


def test_there_are_goldens() -> None:
    assert len(GOLDENS) >= 4


def test_demo_jobs_hold_only_job_files() -> None:
    # They are dropped into an inbox as they are: a golden there would be quarantined.
    assert not list((SAMPLE_JOBS / "cases").rglob("*" + GOLDEN_SUFFIX))
    assert any(GOLDEN_DIR.rglob("*" + GOLDEN_SUFFIX))


@pytest.mark.parametrize("golden", GOLDENS, ids=_id)
def test_sample_matches_golden(golden: Path) -> None:
    sample = _sample_of(golden)
    assert sample.is_file(), f"golden without its sample: {golden}"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert golden_records(sample, SAMPLE_JOBS) == expected
