"""Where the shipped defaults live: bundled in the wheel, or at the root of a source checkout."""

from __future__ import annotations

from pathlib import Path

from printharvest.exceptions import ConfigError

_PACKAGE = Path(__file__).resolve().parents[1]


def shipped_dir(name: str) -> Path:
    """The shipped ``rules`` or ``sample_jobs`` folder."""
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"the shipped '{name}' folder is missing from this installation")


def shipped_rules() -> Path:
    """The default rules folder (copied into a home by ``printharvest init``)."""
    return shipped_dir("rules")


def shipped_sample_jobs() -> Path:
    """The sample folder (``cases/`` holds the demo's job folders, ``formats/`` one family each)."""
    return shipped_dir("sample_jobs")


def shipped_demo_cases() -> Path:
    """The job folders ``printharvest demo`` drops into its inbox."""
    return shipped_sample_jobs() / "cases"
