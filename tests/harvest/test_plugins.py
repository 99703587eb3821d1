"""Plugin host: the three routes, broken plugins recorded and skipped, deterministic selection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from printharvest.connectors.probe import probe_file
from printharvest.harvest.plugins import PluginHost, guarded_score

GOOD_DROPIN = '''
from printharvest import FileConnector

class Lab(FileConnector):
    id = "lab-log"
    label = "Lab log"
    version = "1"
    patterns = ("*.lablog",)

    def detect(self, probe):
        return 0.95 if probe.head.startswith(b"LABLOG") else 0.0

    def harvest(self, probe):
        return [self.new_record(probe, "print")]

CONNECTORS = [Lab]
'''

SAME_SCORE = '''
from printharvest import FileConnector

class Twin(FileConnector):
    id = "{id}"
    label = "Twin"
    version = "1"

    def detect(self, probe):
        return 0.95

    def harvest(self, probe):
        return [self.new_record(probe, "print")]

CONNECTORS = [Twin]
'''


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_builtins_load_without_failures() -> None:
    host = PluginHost.load(None, entry_points=False)
    assert {"stl", "prusaslicer"} <= set(host.connectors)
    assert host.failures == []
    assert all(c.route == "built-in" for c in host.connectors.values())


def test_dropin_good_and_broken(tmp_path: Path) -> None:
    folder = tmp_path / "connectors"
    _write(folder, "lab.py", GOOD_DROPIN)
    _write(folder, "syntax.py", "def broken(:\n")
    _write(folder, "raises.py", "raise RuntimeError('no printer driver')\n")
    _write(folder, "badid.py", GOOD_DROPIN.replace('"lab-log"', '"Bad Id!"'))
    _write(folder, "nothing.py", "X = 1\n")
    _write(folder, "_private.py", "raise SystemExit(3)\n")
    _write(folder, "dup.py", GOOD_DROPIN.replace('"lab-log"', '"stl"'))
    host = PluginHost.load(folder, entry_points=False)
    assert host.connectors["lab-log"].route == "drop-in"
    assert host.connectors["stl"].route == "built-in"
    reasons = {Path(f.origin.split(" (")[0]).name: f.reason for f in host.failures}
    assert set(reasons) == {"syntax.py", "raises.py", "badid.py", "nothing.py", "dup.py"}
    assert "SyntaxError" in reasons["syntax.py"]
    assert "RuntimeError" in reasons["raises.py"]
    assert "id must be" in reasons["badid.py"]
    assert "already used" in reasons["dup.py"]


def test_entry_point_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    _write(site, "lab_pkg_connector.py", GOOD_DROPIN.replace("lab-log", "ep-lab"))
    dist = site / "lab_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[printharvest]\nlab = lab_pkg_connector\nbroken = lab_pkg_missing_module\n")
    monkeypatch.syspath_prepend(str(site))
    host = PluginHost.load(None)
    assert host.connectors["ep-lab"].route == "entry point"
    assert any("lab_pkg_missing_module" in f.origin and "import failed" in f.reason
               for f in host.failures)
    sys.modules.pop("lab_pkg_connector", None)


def test_tie_breaks_by_route_then_id(tmp_path: Path) -> None:
    folder = tmp_path / "connectors"
    _write(folder, "b.py", SAME_SCORE.format(id="twin-b"))
    _write(folder, "a.py", SAME_SCORE.format(id="twin-a"))
    target = tmp_path / "model.stl"
    target.write_bytes(b"\0" * 80 + (1).to_bytes(4, "little") + b"\0" * 50)
    host = PluginHost.load(folder, entry_points=False)
    probe = probe_file(target)
    ranked = [s.connector.id for s in host.scores(probe)]
    # Three connectors score 0.95 (stl scores 0.9): drop-ins first, by id.
    assert ranked[:3] == ["twin-a", "twin-b", "stl"]
    for _ in range(5):
        assert host.select(probe).id == "twin-a"  # type: ignore[union-attr]


def test_detect_that_raises_or_returns_nan_scores_zero(tmp_path: Path) -> None:
    folder = tmp_path / "connectors"
    _write(folder, "nan.py", SAME_SCORE.format(id="nan").replace("0.95", "float('nan')"))
    _write(folder, "boom.py", SAME_SCORE.format(id="boom").replace(
        "return 0.95", "raise ValueError('detector bug')"))
    _write(folder, "big.py", SAME_SCORE.format(id="big").replace("0.95", "7"))
    host = PluginHost.load(folder, entry_points=False)
    target = tmp_path / "x.txt"
    target.write_text("hello")
    probe = probe_file(target)
    scores = {c.id: guarded_score(c, probe) for c in host.ordered()}
    assert scores["nan"].score == 0.0 and scores["boom"].score == 0.0
    assert "ValueError" in (scores["boom"].error or "")
    assert scores["big"].score == 1.0


def test_broken_dropin_does_not_stop_inspect(tmp_path: Path, run_cli, sample_gcode: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    _write(home / "connectors", "broken.py", "import does_not_exist\n")
    result = run_cli("--home", str(home), "inspect", "--json", str(sample_gcode))
    assert result.code == 0, result.err
    assert '"prusaslicer"' in result.out
    listing = run_cli("--home", str(home), "connectors", "list")
    assert "broken.py" in listing.out and "ModuleNotFoundError" in listing.out


def test_shipped_example_connector_loads(tmp_path: Path) -> None:
    repo_connectors = Path(__file__).resolve().parents[2] / "connectors"
    host = PluginHost.load(repo_connectors, entry_points=False)
    assert "example-job-ticket" in host.connectors
    assert host.failures == []
