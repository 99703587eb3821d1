"""Where the repository's sample files are, for tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE_JOBS = REPO / "sample_jobs"
DEMO_CASES = SAMPLE_JOBS / "cases"
