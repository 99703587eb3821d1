"""Clear words for the careless: broken maps, failed drop-ins, wrong return types, ties, off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from printharvest.connectors.probe import probe_file
from printharvest.harvest.plugins import PluginHost, score_of
from printharvest.testing import check_connector_contract
from tests.support.cli import CliResult

Run = Callable[..., CliResult]

BROKEN_MAP = """\
name: resin-fleet
recognise:
  required_columns: [Printer serial, Resin]
columns:
  Printer serial: printer.serial
  Resin: material.name
  "Resin used (L)": {field: material.used_ml, unit: litre}
"""
TABLE = "Printer serial,Resin,Resin used (L)\r\nEagerSnail,Clear V4,0.0123\r\n"
WHERE = "resin-fleet.yaml:7: columns.Resin used (L)"

CARELESS = '''
from printharvest import FileConnector


class ReturnsDict(FileConnector):
    id = "lab-dict"
    label = "Returns a dict"
    version = "1"

    def detect(self, probe):
        return 0.9 if probe.head.startswith(b"DICT") else 0.0

    def harvest(self, probe):
        return {"kind": "print"}


class ReturnsNone(FileConnector):
    id = "lab-none"
    label = "Forgets to return"
    version = "1"

    def detect(self, probe):
        if probe.head.startswith(b"NONE"):
            return 0.9

    def harvest(self, probe):
        return []


class ReturnsText(FileConnector):
    id = "lab-text"
    label = "Returns a string"
    version = "1"

    def detect(self, probe):
        return "0.99"

    def harvest(self, probe):
        return []


class TwinA(FileConnector):
    id = "lab-twin-a"
    label = "Twin A"
    version = "1"

    def detect(self, probe):
        return 0.8 if probe.head.startswith(b"TWIN") else 0.0

    def harvest(self, probe):
        return [self.new_record(probe, "print")]


class TwinB(TwinA):
    id = "lab-twin-b"
    label = "Twin B"


CONNECTORS = [ReturnsDict, ReturnsNone, ReturnsText, TwinA, TwinB]
'''


def _config(home: Path, **settings: object) -> None:
    settings.setdefault("entry_point_plugins", False)
    (home / "printharvest.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")


def _broken_map_home(home: Path, **settings: object) -> None:
    _config(home, **settings)
    maps = home / "rules" / "joblogs"
    maps.mkdir(parents=True)
    (maps / "resin-fleet.yaml").write_text(BROKEN_MAP, encoding="utf-8")


def test_a_broken_column_map_is_named_by_inspect_ingest_list_test_and_doctor(
        home: Path, tmp_path: Path, run_cli: Run) -> None:
    _broken_map_home(home)
    table = tmp_path / "export.csv"
    table.write_text(TABLE, encoding="utf-8")
    inspected = run_cli("--home", str(home), "inspect", str(table))
    assert inspected.code == 1
    assert f"warning: job-log column map failed to load: {home}" in inspected.err
    refused = next(line for line in inspected.err.splitlines() if line.startswith("error:"))
    assert "no connector recognises this file; a job-log column map failed to load" in refused
    assert WHERE in refused and "unit 'litre' does not fit material.used_ml" in refused
    ingested = run_cli("--home", str(home), "ingest", str(table))
    assert ingested.code == 1 and WHERE in ingested.err
    listed = run_cli("--home", str(home), "connectors", "list")
    assert "1 job-log column map(s) failed to load" in listed.out and WHERE in listed.out
    tested = run_cli("--home", str(home), "connectors", "test", str(table))
    assert WHERE in tested.err
    doctor = run_cli("--home", str(home), "doctor")
    assert doctor.code != 0
    line = next(x for x in doctor.out.splitlines() if "connectors:" in x)
    assert line.startswith("FAIL") and WHERE in line


def test_a_broken_column_map_is_the_quarantine_reason(home: Path, run_cli: Run) -> None:
    _broken_map_home(home, settle_seconds=0)
    inbox = home / "inbox"
    inbox.mkdir()
    (inbox / "export.csv").write_text(TABLE, encoding="utf-8")
    result = run_cli("--home", str(home), "watch", "--once")
    assert result.code == 1
    reason = (home / "quarantine" / "export.csv.reason.txt").read_text(encoding="utf-8")
    assert "a job-log column map failed to load" in reason and WHERE in reason


def test_inspect_and_ingest_say_a_dropin_failed_to_load(
        home: Path, run_cli: Run, sample_gcode: Path) -> None:
    _config(home)
    (home / "connectors").mkdir()
    (home / "connectors" / "typo.py").write_text("def broken(:\n", encoding="utf-8")
    for command in ("inspect", "ingest"):
        result = run_cli("--home", str(home), command, str(sample_gcode))
        assert result.code == 0, result.err
        assert "warning: connector failed to load: [drop-in]" in result.err
        assert "typo.py: import failed: SyntaxError" in result.err


def test_careless_returns_are_refused_in_words(home: Path, tmp_path: Path,
                                               run_cli: Run) -> None:
    _config(home)
    (home / "connectors").mkdir()
    (home / "connectors" / "careless.py").write_text(CARELESS, encoding="utf-8")
    dict_file = tmp_path / "a.dat"
    dict_file.write_bytes(b"DICT")
    none_file = tmp_path / "b.dat"
    none_file.write_bytes(b"something else")
    result = run_cli("--home", str(home), "connectors", "test", str(dict_file), str(none_file))
    assert ("connector lab-dict: harvest returned a dict; expected a list of HarvestRecord"
            in result.err)
    assert "detect returned None; expected a number from 0 to 1" in result.out
    assert "detect returned a str; expected a number from 0 to 1" in result.out
    assert "TypeError" not in result.out + result.err
    inspected = run_cli("--home", str(home), "inspect", str(dict_file))
    assert "harvest returned a dict; expected a list of HarvestRecord" in inspected.err


def test_a_tie_between_lab_connectors_is_said(home: Path, tmp_path: Path,
                                              run_cli: Run) -> None:
    _config(home)
    (home / "connectors").mkdir()
    (home / "connectors" / "careless.py").write_text(CARELESS, encoding="utf-8")
    twin = tmp_path / "t.dat"
    twin.write_bytes(b"TWIN")
    result = run_cli("--home", str(home), "connectors", "test", str(twin))
    assert result.code == 0, result.err
    assert "note: lab-twin-b scores 0.800 too; lab-twin-a wins only by the tie-break" in result.out


@pytest.mark.parametrize(("value", "words"), [
    (None, "detect returned None"), ("0.99", "detect returned a str"),
    (True, "detect returned a bool"), ([0.5], "detect returned a list"),
    (float("nan"), "non-finite")])
def test_score_of_refuses_non_numbers(value: object, words: str) -> None:
    score, problem = score_of(value)
    assert score == 0.0 and problem is not None and words in problem


def test_score_of_clamps_numbers() -> None:
    assert score_of(2) == (1.0, None)
    assert score_of(-0.5) == (0.0, None)
    assert score_of(0.25) == (0.25, None)


def test_a_connector_switched_off_by_id_is_listed_as_off_and_never_chosen(
        home: Path, run_cli: Run, sample_gcode: Path) -> None:
    _config(home, disabled_connectors=["prusaslicer", "formlabs_web", "no-such-thing"])
    listed = run_cli("--home", str(home), "connectors", "list")
    off = listed.out.split("switched off", 1)[1]
    assert "prusaslicer" in off and "formlabs_web" in off and " off" in off
    assert "disabled_connectors names 'no-such-thing', which is not installed" in listed.out
    inspected = run_cli("--home", str(home), "inspect", "--json", str(sample_gcode))
    assert '"connector": "prusaslicer"' not in inspected.out
    doctor = run_cli("--home", str(home), "doctor")
    line = next(x for x in doctor.out.splitlines() if "connectors:" in x)
    assert "2 switched off (formlabs_web, prusaslicer)" in line and "no-such-thing" in line


def test_switch_off_in_the_host(tmp_path: Path, sample_gcode: Path) -> None:
    host = PluginHost.load(None, entry_points=False, disabled=["prusaslicer"])
    assert "prusaslicer" not in host.connectors and "prusaslicer" in host.disabled
    winner = host.select(probe_file(sample_gcode))
    assert winner is None or winner.id != "prusaslicer"


def test_the_contract_check_refuses_a_string_score(tmp_path: Path) -> None:
    from printharvest import FileConnector, FileProbe, HarvestRecord

    class Text(FileConnector):
        id = "text"
        label = "Text"
        version = "1"

        def detect(self, probe: FileProbe) -> float:
            return "0.5"  # type: ignore[return-value]

        def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
            return []

    with pytest.raises(AssertionError, match="str"):
        check_connector_contract(Text, samples=[])
