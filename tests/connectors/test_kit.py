"""The connector kit: `connectors new`, `connectors test`, printharvest.testing, entry points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from printharvest import FileConnector, FileProbe, HarvestRecord
from printharvest.harvest.plugins import PluginHost
from printharvest.testing import check_connector_contract, check_golden
from tests.support.cli import CliResult
from tests.support.paths import REPO, SAMPLE_JOBS

EXAMPLE = REPO / "examples" / "printharvest-lab-connector"
PJH = SAMPLE_JOBS / "formats" / "joblog-csv" / "octoprint-printjobhistory.csv"
Run = Callable[..., CliResult]


def _pytest(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(cwd),
         *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_new_writes_a_skeleton_whose_test_passes(home: Path, run_cli: Run) -> None:
    result = run_cli("--home", str(home), "connectors", "new", "ward-log")
    assert result.code == 0, result.err
    module = home / "connectors" / "ward_log.py"
    sample = home / "connectors" / "tests" / "ward_log.sample.ward-log.txt"
    test = home / "connectors" / "tests" / "test_ward_log.py"
    assert module.is_file() and sample.is_file() and test.is_file()
    listing = run_cli("--home", str(home), "connectors", "list")
    assert "ward-log" in listing.out and "drop-in" in listing.out
    assert "failed to load" not in listing.out  # tests/ is not imported as a connector
    scored = run_cli("--home", str(home), "connectors", "test", str(sample))
    assert scored.code == 0, scored.err
    assert "* ward-log" in scored.out.replace("  ", " ") and "harvested 1 record" in scored.out
    outcome = _pytest(str(test), cwd=home)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "2 passed" in outcome.stdout


def test_new_refuses_bad_names_and_overwrites(home: Path, run_cli: Run) -> None:
    assert run_cli("--home", str(home), "connectors", "new", "Ward Log").code == 2
    assert run_cli("--home", str(home), "connectors", "new", "ward").code == 0
    again = run_cli("--home", str(home), "connectors", "new", "ward")
    assert again.code == 2 and "already exists" in again.err
    assert run_cli("--home", str(home), "connectors", "new", "ward", "--force").code == 0


def test_connectors_test_scores_winner_and_failures(tmp_path: Path, home: Path,
                                                    run_cli: Run) -> None:
    folder = home / "connectors"
    folder.mkdir()
    (folder / "boom.py").write_text(
        "from printharvest import FileConnector\n"
        "class Boom(FileConnector):\n"
        "    id = 'boom'\n    label = 'Boom'\n    version = '1'\n"
        "    def detect(self, probe):\n        raise KeyError('x')\n"
        "    def harvest(self, probe):\n        return []\n"
        "CONNECTORS = [Boom]\n")
    unknown = tmp_path / "notes.txt"
    unknown.write_text("nothing to see\n")
    result = run_cli("--home", str(home), "connectors", "test", str(PJH), str(unknown))
    assert result.code == 1
    lines = result.out.splitlines()
    winner = next(line for line in lines if line.strip().startswith("*"))
    assert "joblog" in winner and "0.950" in winner
    assert "detect raised KeyError" in result.out
    assert "harvested 4 record(s)" in result.out
    assert "no connector scores" in result.err
    ok = run_cli("--home", str(home), "connectors", "test", "--json", str(PJH))
    assert ok.code == 0 and '"index": 3' in ok.out


def test_connectors_test_reports_a_crashing_harvest(home: Path, run_cli: Run,
                                                   tmp_path: Path) -> None:
    folder = home / "connectors"
    folder.mkdir()
    (folder / "crash.py").write_text(
        "from printharvest import FileConnector\n"
        "class Crash(FileConnector):\n"
        "    id = 'crash'\n    label = 'Crash'\n    version = '1'\n"
        "    def detect(self, probe):\n        return 1.0\n"
        "    def harvest(self, probe):\n        return [1 / 0]\n"
        "CONNECTORS = [Crash]\n")
    target = tmp_path / "x.dat"
    target.write_text("x")
    result = run_cli("--home", str(home), "connectors", "test", str(target))
    assert result.code == 1
    # The drop-in runs in the sandbox: the reason names the connector and the exception type.
    assert "connector crash failed (ZeroDivisionError)" in result.err
    assert "Traceback" not in result.err


# -- printharvest.testing catches what it promises to catch -------------------------------

class _Good(FileConnector):
    id = "good"
    label = "Good"
    version = "1"
    patterns = ("*.good",)

    def detect(self, probe: FileProbe) -> float:
        return 0.9 if probe.head.startswith(b"GOOD") else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        return [self.new_record(probe, "print", index=i) for i in range(2)]


class _Raises(_Good):
    def detect(self, probe: FileProbe) -> float:
        return 1 / len(probe.head)  # ZeroDivisionError on an empty file


class _OutOfRange(_Good):
    def detect(self, probe: FileProbe) -> float:
        return 1.5 if probe.size > 1000 else 0.0


class _ReadsDisk(_Good):
    def detect(self, probe: FileProbe) -> float:
        try:
            return 0.9 if probe.path.read_bytes().startswith(b"GOOD") else 0.0
        except OSError:
            return 0.0


class _BadSource(_Good):
    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        record = self.new_record(probe, "print")
        record.source.connector = "someone-else"
        return [record, self.new_record(probe, "print")]


class _CrashesOnGarbage(_Good):
    def detect(self, probe: FileProbe) -> float:
        return 0.5

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        if not probe.head.startswith(b"GOOD"):
            raise ValueError("unexpected")
        return super().harvest(probe)


class _BadId(_Good):
    id = "Bad Id"


@pytest.fixture
def good_sample(tmp_path: Path) -> Path:
    path = tmp_path / "job.good"
    path.write_bytes(b"GOOD job\n")
    return path


def test_contract_check_passes_a_good_connector(good_sample: Path) -> None:
    report = check_connector_contract(_Good, samples=[good_sample], expect_claim=True)
    assert report.harvested == {"job.good": 2}
    assert report.scores["empty.bin"] == 0.0


@pytest.mark.parametrize(("cls", "expected"), [
    (_Raises, "detect raised ZeroDivisionError"),
    (_OutOfRange, "outside [0, 1]"),
    (_ReadsDisk, "detect read beyond the probe"),
    (_BadSource, "source does not name this connector"),
    (_CrashesOnGarbage, "harvest raised ValueError instead of a HarvestError"),
    (_BadId, "id must be"),
])
def test_contract_check_catches(cls: type[FileConnector], expected: str,
                                good_sample: Path) -> None:
    with pytest.raises(AssertionError) as info:
        check_connector_contract(cls, samples=[good_sample])
    assert expected in str(info.value)


def test_expect_claim_fails_when_no_sample_is_claimed(tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("nothing")
    with pytest.raises(AssertionError, match="none of the samples"):
        check_connector_contract(_Good, samples=[other], garbage=False, expect_claim=True)


def test_check_golden_names_the_difference(tmp_path: Path) -> None:
    root = tmp_path / "sample_jobs"
    sample = root / PJH.relative_to(SAMPLE_JOBS)
    sample.parent.mkdir(parents=True)
    shutil.copy(PJH, sample)
    golden = PJH.with_name(PJH.name + ".expected.json").read_text(encoding="utf-8")
    target = sample.with_name(PJH.name + ".expected.json")
    target.write_text(golden, encoding="utf-8")
    check_golden(sample, root)
    target.write_text(
        golden.replace('"print_duration_s": 10032', '"print_duration_s": 10033'),
        encoding="utf-8")
    with pytest.raises(AssertionError, match=r"\[0\]\.print_duration_s"):
        check_golden(sample, root)


# -- the example package, installed and loaded through its entry point --------------------

def _uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")


@pytest.mark.skipif(_uv() is None, reason="uv is needed to install the example package")
@pytest.mark.slow
def test_example_package_installs_and_loads_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build = tmp_path / "src"
    shutil.copytree(EXAMPLE, build)  # build from a copy: nothing is written into the repo
    installed = subprocess.run(
        [str(_uv()), "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
         "--no-cache", "--target", str(site), "--python", sys.executable, str(build)],
        capture_output=True, text=True, timeout=120, check=False)
    assert installed.returncode == 0, installed.stderr
    assert (site / "printharvest_lab_connector" / "__init__.py").is_file()
    monkeypatch.syspath_prepend(str(site))
    try:
        host = PluginHost.load(None)
        loaded = host.connectors["lab-print-log"]
        assert loaded.route == "entry point"
        assert "printharvest_lab_connector" in loaded.origin
        sample = EXAMPLE / "tests" / "samples" / "bench.printlog.jsonl"
        from printharvest.connectors.probe import probe_file

        probe = probe_file(sample)
        assert host.select(probe) is loaded
        # The package's own tests (printharvest.testing) pass against the installed copy.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
        outcome = _pytest(str(build / "tests"), env=env, cwd=build)
        assert outcome.returncode == 0, outcome.stdout + outcome.stderr
        assert "2 passed" in outcome.stdout
    finally:
        sys.modules.pop("printharvest_lab_connector", None)


def test_the_golden_writer_runs_as_documented(tmp_path: Path) -> None:
    # `python -m printharvest.testing golden SAMPLE` (docs/connectors.md): a lab's samples
    # folder is its own root; what it writes is what check_golden then accepts.
    sample = tmp_path / "samples" / PJH.name
    sample.parent.mkdir()
    shutil.copy(PJH, sample)
    done = subprocess.run([sys.executable, "-m", "printharvest.testing", "golden", str(sample),
                           str(tmp_path / "missing.gcode")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "missing.gcode: no such file" in done.stderr and "Traceback" not in done.stderr
    written = json.loads(sample.with_name(PJH.name + ".expected.json").read_text("utf-8"))
    assert written[0]["source"]["path"] == PJH.name
    check_golden(sample, sample.parent)


def test_the_golden_writer_says_each_bad_sample_once_in_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from printharvest.testing.__main__ import main

    sample = tmp_path / "samples" / PJH.name
    sample.parent.mkdir()
    shutil.copy(PJH, sample)
    unknown = tmp_path / "samples" / "notes.txt"
    unknown.write_text("nothing a connector reads\n", encoding="utf-8")
    assert main(["golden", "--root", str(tmp_path / "elsewhere"), str(sample)]) == 1
    assert main(["golden", str(unknown)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{sample}: not below --root {tmp_path / 'elsewhere'}"
    assert lines[1] == f"{unknown}: no connector recognises this file"
    assert not sample.with_name(PJH.name + ".expected.json").exists()
