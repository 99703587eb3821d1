"""Third-party connectors are bounded in every command: hanging detect, harvest and import."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.support.cli import CliResult

Run = Callable[..., CliResult]

HANGING = '''
import time
from printharvest import FileConnector


class Hangs(FileConnector):
    id = "lab-hangs"
    label = "Hangs on some files"
    version = "1"
    patterns = ("*.lab",)

    def detect(self, probe):
        if probe.head.startswith(b"DETECT-HANG"):
            while True:
                pass
        return 0.9 if probe.head.startswith(b"LAB") else 0.0

    def harvest(self, probe):
        if b"HARVEST-HANG" in probe.head:
            time.sleep(3600)
        if b"HOG" in probe.head:
            hog = bytearray(16 << 30)  # far past the memory cap
            return [] if hog else []
        return [self.new_record(probe, "print", print_time_s=60)]


CONNECTORS = [Hangs]
'''

GOOD = '''
from printharvest import FileConnector


class Good(FileConnector):
    id = "lab-good"
    label = "Good"
    version = "1"
    patterns = ("*.good",)

    def detect(self, probe):
        return 0.9 if probe.head.startswith(b"GOOD") else 0.0

    def harvest(self, probe):
        return [self.new_record(probe, "print", print_time_s=120)]


CONNECTORS = [Good]
'''


def _home(home: Path, connectors: dict[str, str], **config: object) -> Path:
    settings: dict[str, object] = {"entry_point_plugins": False,
                                   "harvest_timeout_seconds": 1.5,
                                   "connector_load_timeout_seconds": 3}
    settings.update(config)
    (home / "printharvest.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    folder = home / "connectors"
    folder.mkdir(exist_ok=True)
    for name, text in connectors.items():
        (folder / name).write_text(text, encoding="utf-8")
    return home


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.slow
def test_a_hanging_detect_is_stopped_in_inspect_ingest_and_connectors_test(
        home: Path, tmp_path: Path, run_cli: Run) -> None:
    _home(home, {"hangs.py": HANGING})
    hang = _file(tmp_path, "a.lab", b"DETECT-HANG")
    fine = _file(tmp_path, "b.lab", b"LAB ok")
    result = run_cli("--home", str(home), "inspect", str(hang), str(fine))
    assert result.code == 1
    # the file that hung detection is refused; the other is harvested by the same connector
    # once the sandbox has been restarted
    assert "[print]" in result.out and "b.lab" in result.out and "via lab-hangs" in result.out
    assert ("a.lab: no connector recognises this file (detect of lab-hangs: detect took longer "
            "than 1.5 s and was stopped)") in result.err
    tested = run_cli("--home", str(home), "connectors", "test", str(hang))
    assert tested.code == 1
    assert "detect took longer than 1.5 s and was stopped" in tested.out
    assert "lab-hangs" in tested.out
    ingested = run_cli("--home", str(home), "ingest", str(hang), str(fine))
    assert ingested.code == 1
    assert "1 new record(s)" in ingested.out


@pytest.mark.slow
def test_a_hanging_harvest_is_stopped_and_named(home: Path, tmp_path: Path,
                                                 run_cli: Run) -> None:
    _home(home, {"hangs.py": HANGING})
    hang = _file(tmp_path, "a.lab", b"LAB HARVEST-HANG")
    fine = _file(tmp_path, "b.lab", b"LAB ok")
    result = run_cli("--home", str(home), "inspect", str(hang), str(fine))
    assert result.code == 1
    assert ("a.lab: connector lab-hangs: harvest took longer than 1.5 s and was stopped"
            in result.err)
    assert "b.lab" in result.out
    tested = run_cli("--home", str(home), "connectors", "test", str(hang))
    assert tested.code == 1
    assert "connector lab-hangs: harvest took longer than 1.5 s" in tested.err


@pytest.mark.slow
def test_the_memory_cap_applies_to_third_party_harvest(home: Path, tmp_path: Path,
                                                       run_cli: Run) -> None:
    _home(home, {"hangs.py": HANGING}, harvest_timeout_seconds=30,
          watch={"worker_memory_mb": 2048})
    hog = _file(tmp_path, "a.lab", b"LAB HOG")
    result = run_cli("--home", str(home), "inspect", str(hog))
    assert result.code == 1
    assert "connector lab-hangs: too large to read (memory cap reached)" in result.err


@pytest.mark.slow
def test_a_hanging_import_is_stopped_and_named_in_every_command(
        home: Path, tmp_path: Path, run_cli: Run) -> None:
    _home(home, {"a_hangs_on_import.py": "import time\ntime.sleep(3600)\n", "good.py": GOOD},
          connector_load_timeout_seconds=2)
    reason = "a_hangs_on_import.py: import took longer than 2 s and was stopped"
    listed = run_cli("--home", str(home), "connectors", "list")
    assert listed.code == 0
    assert reason in listed.out and "lab-good" in listed.out
    doctor = run_cli("--home", str(home), "doctor")
    assert doctor.code != 0 and "FAIL  connectors" in doctor.out and reason in doctor.out
    good = _file(tmp_path, "x.good", b"GOOD")
    inspected = run_cli("--home", str(home), "inspect", str(good))
    assert inspected.code == 0 and "via lab-good" in inspected.out
    assert f"warning: connector failed to load: [drop-in] {home}" in inspected.err
    assert reason in inspected.err
    ingested = run_cli("--home", str(home), "ingest", str(good))
    assert ingested.code == 0 and reason in ingested.err
    tested = run_cli("--home", str(home), "connectors", "test", str(good))
    assert tested.code == 0 and reason in tested.err


@pytest.mark.slow
def test_an_entry_point_that_hangs_on_import_is_stopped_and_named(
        home: Path, tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "lab_hangs_on_import.py").write_text("import time\ntime.sleep(3600)\n",
                                                 encoding="utf-8")
    dist = site / "lab_hangs-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-hangs\nVersion: 1.0\n",
                                   encoding="utf-8")
    (dist / "entry_points.txt").write_text("[printharvest]\nhangs = lab_hangs_on_import\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))  # the sandbox process sees the package too
    _home(home, {"good.py": GOOD}, entry_point_plugins=True, connector_load_timeout_seconds=2)
    listed = run_cli("--home", str(home), "connectors", "list")
    assert listed.code == 0
    assert ("[entry point] hangs = lab_hangs_on_import: import took longer than 2 s and was "
            "stopped") in listed.out
    assert "lab-good" in listed.out  # the drop-in after it still loads
    assert "lab_hangs_on_import" not in sys.modules  # never imported into the command
