"""``inspect`` and ``ingest`` run built-in connectors under the watch workers' limits."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from printharvest.harvest import plugins
from tests.support import hostile_builtin
from tests.support.cli import CliResult

Run = Callable[..., CliResult]


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hostile test connector loads as a built-in (the route built-ins take)."""
    monkeypatch.setattr(plugins, "BUILTIN_MODULES",
                        (*plugins.BUILTIN_MODULES, hostile_builtin.MODULE))


def _limits(home: Path, timeout: float = 1, memory_mb: int = 3072) -> Path:
    settings = {"entry_point_plugins": False, "harvest_timeout_seconds": timeout,
                "watch": {"worker_memory_mb": memory_mb}}
    (home / "printharvest.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return home


def _job(folder: Path, sample_gcode: Path, hostile: bytes) -> Path:
    """A job folder: a hostile file between a G-code file and a good hostile-format file."""
    folder.mkdir()
    (folder / "bad.hostile").write_bytes(hostile)
    shutil.copy(sample_gcode, folder / "part.gcode")
    (folder / "ok.hostile").write_bytes(b"HOSTILE fine")
    return folder


def _errors(result: CliResult) -> list[str]:
    return [line for line in result.err.splitlines() if line.startswith("error: ")]


@pytest.mark.slow
@pytest.mark.usefixtures("hostile")
def test_a_hanging_builtin_is_stopped_and_the_rest_of_the_folder_is_harvested(
        home: Path, tmp_path: Path, sample_gcode: Path, run_cli: Run) -> None:
    _limits(home)
    job = _job(tmp_path / "job", sample_gcode, b"HOSTILE HANG")
    started = time.monotonic()
    result = run_cli("--home", str(home), "inspect", str(job))
    elapsed = time.monotonic() - started
    # the folder (limit 1.2 s), then the file alone (1 s): far below the 30 s hang
    assert elapsed < hostile_builtin.HANG_SECONDS / 3
    assert result.code == 1
    assert _errors(result) == [
        f"error: {job / 'bad.hostile'}: harvest took longer than 1 s and was stopped"]
    assert f"{job / 'part.gcode'}, via prusaslicer" in result.out
    assert f"{job / 'ok.hostile'}, via test-hostile" in result.out
    assert "Traceback" not in result.out + result.err

    started = time.monotonic()
    ingested = run_cli("--home", str(home), "ingest", str(job))
    assert time.monotonic() - started < hostile_builtin.HANG_SECONDS / 3
    assert ingested.code == 1
    assert "2 new record(s)" in ingested.out and "1 file(s) failed" in ingested.out
    assert _errors(ingested) == [
        f"error: {job / 'bad.hostile'}: harvest took longer than 1 s and was stopped"]


@pytest.mark.slow
@pytest.mark.usefixtures("hostile")
def test_a_hanging_builtin_named_alone_is_stopped_after_one_files_limit(
        home: Path, tmp_path: Path, sample_gcode: Path, run_cli: Run) -> None:
    _limits(home)
    bad = tmp_path / "bad.hostile"
    bad.write_bytes(b"HOSTILE HANG")
    started = time.monotonic()
    result = run_cli("--home", str(home), "inspect", str(bad), str(sample_gcode))
    assert time.monotonic() - started < hostile_builtin.HANG_SECONDS / 3
    assert result.code == 1
    assert _errors(result) == [f"error: {bad}: harvest took longer than 1 s and was stopped"]
    assert "via prusaslicer" in result.out


@pytest.mark.usefixtures("hostile")
def test_the_memory_cap_applies_to_builtins(home: Path, tmp_path: Path, sample_gcode: Path,
                                            run_cli: Run) -> None:
    # The cap is on the address space of a copy of this process: this much above its size
    # now leaves room to harvest, not for the connector's 4 GiB.
    _limits(home, timeout=60, memory_mb=_address_space_mb() + 1024)
    job = _job(tmp_path / "job", sample_gcode, b"HOSTILE HOG")
    result = run_cli("--home", str(home), "inspect", str(job))
    assert result.code == 1
    assert _errors(result) == [f"error: {job / 'bad.hostile'}: too large to read"]
    assert "part.gcode, via prusaslicer" in result.out
    assert "ok.hostile, via test-hostile" in result.out


@pytest.mark.usefixtures("hostile")
def test_a_builtin_that_ends_the_process_costs_its_file_alone(
        home: Path, tmp_path: Path, sample_gcode: Path, run_cli: Run) -> None:
    _limits(home)
    job = _job(tmp_path / "job", sample_gcode, b"HOSTILE DIE")
    result = run_cli("--home", str(home), "inspect", "--json", str(job))
    assert result.code == 1
    assert _errors(result) == [f"error: {job / 'bad.hostile'}: harvest died (exit code 3)"]
    records = yaml.safe_load(result.out)  # JSON is YAML
    assert sorted(Path(r["source"]["path"]).name for r in records) == ["ok.hostile",
                                                                        "part.gcode"]


def _address_space_mb() -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) // 1024
    pytest.skip("no /proc/self/status: address-space caps are Linux-tested")


@pytest.mark.usefixtures("hostile")
def test_reharvest_reads_originals_under_the_same_limits(
        home: Path, tmp_path: Path, sample_gcode: Path, run_cli: Run) -> None:
    _limits(home)
    job = tmp_path / "job"
    job.mkdir()
    (job / "ok.hostile").write_bytes(b"HOSTILE fine")
    assert run_cli("--home", str(home), "ingest", str(job)).code == 0
    (job / "ok.hostile").write_bytes(b"HOSTILE HANG")  # the original turned hostile since
    started = time.monotonic()
    result = run_cli("--home", str(home), "reharvest", "--all")
    assert time.monotonic() - started < hostile_builtin.HANG_SECONDS / 3
    assert "harvest took longer than 1 s and was stopped" in result.out + result.err
    assert "Traceback" not in result.out + result.err


def test_a_memory_cap_below_the_commands_own_size_fails_each_file_at_once(
        home: Path, tmp_path: Path, sample_gcode: Path, run_cli: Run) -> None:
    # A cap the copy is already over: starting its watch on the parent needed memory, the
    # thread never ran, and the copy waited for it forever (each file then cost its whole
    # time limit: hours for a folder). Now it answers at once.
    _limits(home, timeout=5, memory_mb=max(16, _address_space_mb() // 2))
    job = tmp_path / "job"
    job.mkdir()
    for name in ("a.gcode", "b.gcode"):
        shutil.copy(sample_gcode, job / name)
    started = time.monotonic()
    result = run_cli("--home", str(home), "inspect", str(job))
    assert time.monotonic() - started < 4
    # Whether a file still fits in what the copy already holds depends on the heap it was
    # forked with: each file is harvested or gets one line, at once, never a time-out.
    errors = _errors(result)
    assert all("longer than" not in e for e in errors), errors
    for name in ("a.gcode", "b.gcode"):
        said = [e for e in errors if e.startswith(f"error: {job / name}: ")]
        assert len(said) + result.out.count(f"{job / name}, via prusaslicer") == 1
    assert result.code == (1 if errors else 0)
    assert "Traceback" not in result.out + result.err
