"""Shared fixtures: a temporary home, an in-process CLI runner, the sample jobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from printharvest.cli import main
from printharvest.cli.demo_cmd import NOT_JOB_FILES
from tests.support.cli import CliResult
from tests.support.paths import DEMO_CASES


@pytest.fixture(autouse=True)
def _no_real_home(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run without --home use a temporary default home, never the user's own."""
    monkeypatch.setenv("PRINTHARVEST_HOME", str(tmp_path_factory.mktemp("default-home")))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home folder."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``printharvest`` in-process and capture exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def sample_gcode() -> Path:
    """The PrusaSlicer G-code of the kidney sample job."""
    return DEMO_CASES / "3DP-2026-001_kidney" / "kidney_tumour.gcode"


@pytest.fixture
def sample_jobs_copy(tmp_path: Path) -> Path:
    """The sample job folders copied into a fresh inbox-like folder."""
    import shutil

    target = tmp_path / "inbox"
    target.mkdir()
    for job in sorted(DEMO_CASES.iterdir()):
        if job.is_dir():
            shutil.copytree(job, target / job.name, ignore=NOT_JOB_FILES)
    return target
