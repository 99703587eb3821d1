"""The generic CSV/XLSX job-log connector and its YAML column maps."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from printharvest.connectors.base import HarvestContext
from printharvest.connectors.joblog.cells import parse_number, parse_seconds
from printharvest.connectors.joblog.connector import JobLogConnector
from printharvest.connectors.joblog.maps import load_map, load_maps
from printharvest.connectors.probe import probe_file
from printharvest.exceptions import ConfigError, CorruptFileError
from tests.support.paths import SAMPLE_JOBS

JOBLOGS = SAMPLE_JOBS / "formats" / "joblog-csv"
PJH_HEADER = (JOBLOGS / "octoprint-printjobhistory.csv").read_text(encoding="utf-8").splitlines()[0]

LAB_MAP = """\
name: lab-resin-log
recognise:
  required_columns: [Printer serial, Resin, "Print time (min)"]
file:
  delimiter: ";"
  encoding: cp1252
dates:
  formats: ["%d/%m/%Y %H:%M"]
  timezone: Europe/Paris
columns:
  Printer serial: printer.serial
  Resin: material.name
  "Print time (min)": {field: print_duration_s, unit: minutes}
  "Resin used (L)": {field: material.used_ml, unit: l}
  Started: started_at
  Result: outcome
outcomes:
  "réussi": success
  "échoué": failed
defaults:
  printer: {manufacturer: Formlabs, model: Form 3B}
  technology: vat_photopolymerization
"""


def _harvest(path: Path, rules_dir: Path | None = None) -> list:  # type: ignore[type-arg]
    return _connector(rules_dir).harvest(probe_file(path))


def _connector(rules_dir: Path | None = None) -> JobLogConnector:
    """The job-log connector as the host hands it a lab's rules folder."""
    connector = JobLogConnector()
    connector.context = HarvestContext(rules_dir=rules_dir)
    return connector


def _pjh(tmp_path: Path, rows: list[str], *, name: str = "log.csv", newline: str = "\r\n",
         bom: bool = False, header: str = PJH_HEADER) -> Path:
    target = tmp_path / name
    text = newline.join([header, *rows]) + newline
    target.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return target


ROW = ('"u","success","24.05.2020 08:31","24.05.2020 10:34","2h3m0s","a.gcode","/a.gcode",'
       '"1","45 / 45","0.4 / 23.8","","bed:53","V","Spool","PLA","1.75","1.24","1345.00",'
       '"1456.00","4.00","1.34"')


def test_pjh_row_becomes_a_print_record(tmp_path: Path) -> None:
    records = _harvest(_pjh(tmp_path, [ROW]))
    assert len(records) == 1
    record = records[0]
    assert record.kind == "print" and record.source.connector == "joblog"
    assert record.print_duration_s == 7380
    assert record.started_at == "2020-05-24T08:31:00"
    assert record.outcome == "success"
    assert record.materials[0].used_g == 4.0 and record.materials[0].used_mm == 1345.0
    assert record.print_time_s is None  # the export has no estimate: unknown, not 0


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("bom", [True, False])
def test_bom_and_line_ends(tmp_path: Path, newline: str, bom: bool) -> None:
    path = _pjh(tmp_path, [ROW, ROW.replace("success", "canceled")], newline=newline, bom=bom)
    assert JobLogConnector().detect(probe_file(path)) >= 0.9
    records = _harvest(path)
    assert [r.outcome for r in records] == ["success", "aborted"]
    assert [r.source.index for r in records] == [0, 1]


def test_semicolon_delimiter_and_decimal_commas(tmp_path: Path) -> None:
    header = PJH_HEADER.replace('","', '";"')
    row = ROW.replace('","', '";"').replace('"4.00"', '"4,50"')
    records = _harvest(_pjh(tmp_path, [row], header=header))
    assert records[0].materials[0].used_g == 4.5


def test_bad_cells_warn_and_stay_unknown(tmp_path: Path) -> None:
    bad = ROW.replace('"2h3m0s"', '"soon"').replace('"4.00"', '"-3"').replace(
        '"24.05.2020 08:31"', '"yesterday"')
    short = '"u","failed","24.05.2020 08:31"'
    records = _harvest(_pjh(tmp_path, [bad, "", short, ROW]))
    first, second, third = records
    assert first.print_duration_s is None and first.started_at is None
    assert first.materials[0].used_g is None
    assert len(first.warnings) == 3
    assert all("left unknown" in w for w in first.warnings)
    assert "soon" not in " ".join(first.warnings)  # cell contents never reach warnings
    assert second.outcome == "failed" and second.source.index == 2  # blank row counted
    assert any("cells" in w for w in second.warnings)
    assert third.warnings == [] and third.source.index == 3


def test_unknown_outcome_word_warns(tmp_path: Path) -> None:
    records = _harvest(_pjh(tmp_path, [ROW.replace('"success"', '"exploded"')]))
    assert records[0].outcome is None
    assert "outcome" in records[0].warnings[0]


def test_header_only_and_unmapped_tables_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError, match="no job rows"):
        _harvest(_pjh(tmp_path, []))
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n")
    assert JobLogConnector().detect(probe_file(other)) == 0.0
    with pytest.raises(CorruptFileError, match="no job-log column map fits"):
        _harvest(other)


def test_detect_is_partial_for_fewer_mapped_columns(tmp_path: Path) -> None:
    header = ('"Print result [success canceled failed]","Start Datetime [dd.mm.yyyy hh:mm]",'
              '"Duration"')
    path = _pjh(tmp_path, ['"success","24.05.2020 08:31","1h"'], header=header)
    score = JobLogConnector().detect(probe_file(path))
    assert 0.6 <= score < 0.9
    assert _harvest(path)[0].print_duration_s == 3600


def test_lab_map_from_rules_dir(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "joblogs").mkdir(parents=True)
    (rules / "joblogs" / "resin.yaml").write_text(LAB_MAP, encoding="utf-8")
    log = tmp_path / "resin.csv"
    log.write_bytes(
        "Printer serial;Resin;Print time (min);Resin used (L);Started;Result\r\n"
        "EagerSnail;Clear V4;95,5;0,0123;02/03/2026 14:00;réussi\r\n"
        "EagerSnail;Grey V4;60;1e9;02/03/2026 18:00;échoué\r\n".encode("cp1252"))
    assert JobLogConnector().detect(probe_file(log)) == 0.0  # not without the lab's maps
    assert _connector(rules).detect(probe_file(log)) == pytest.approx(0.95)
    first, second = _harvest(log, rules)
    assert first.printer is not None and first.printer.model == "Form 3B"
    assert first.technology == "vat_photopolymerization"
    assert first.print_duration_s == 5730
    assert first.materials[0].used_ml == pytest.approx(12.3)
    assert first.started_at == "2026-03-02T14:00:00+01:00"
    assert second.outcome == "failed" and second.materials[0].used_ml is None
    assert "implausibly large" in second.warnings[0]


def test_invalid_lab_map_names_file_key_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "rules" / "joblogs"
    folder.mkdir(parents=True)
    bad = folder / "bad.yaml"
    bad.write_text(LAB_MAP.replace("{field: material.used_ml, unit: l}",
                                   "{field: material.used_ml, unit: furlongs}"))
    with pytest.raises(ConfigError) as info:
        load_map(bad)
    message = str(info.value)
    assert "bad.yaml:14" in message and "Resin used (L)" in message and "furlongs" in message
    typo = folder / "typo.yaml"
    typo.write_text(LAB_MAP.replace("material.name", "material.nmae"))
    loaded = load_maps(tmp_path / "rules")
    assert {m.map.name for m in loaded.maps} >= {"octoprint-printjobhistory"}
    assert len(loaded.problems) == 2
    assert any("typo.yaml:12" in p and "material.nmae" in p for p in loaded.problems)


def test_xlsx_with_title_block_and_sheet_name(tmp_path: Path) -> None:
    path = JOBLOGS / "grabcad-print-report.xlsx"
    assert JobLogConnector().detect(probe_file(path)) >= 0.9
    records = _harvest(path)
    assert [r.source.index for r in records] == [0, 1, 2]
    assert records[1].layer_height_mm == pytest.approx(0.026924)


def test_damaged_xlsx_is_a_one_line_error(tmp_path: Path) -> None:
    source = (JOBLOGS / "grabcad-print-report.xlsx").read_bytes()
    broken = tmp_path / "broken.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(buffer, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data[: len(data) // 2] if "sheet1" in info.filename else data)
    broken.write_bytes(buffer.getvalue())
    probe = probe_file(broken)
    assert 0.0 <= JobLogConnector().detect(probe) <= 1.0
    with pytest.raises(CorruptFileError) as caught:
        JobLogConnector().harvest(probe)
    assert "\n" not in str(caught.value)


def test_xlsx_written_by_openpyxl_with_numbers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Print result [success canceled failed]", "Start Datetime [dd.mm.yyyy hh:mm]",
                  "Duration", "Used Weight [g]"])
    sheet.append(["success", "01.02.2026 10:00", "45m", 12.5])
    target = tmp_path / "jobs.xlsx"
    workbook.save(target)
    (record,) = _harvest(target)
    assert record.print_duration_s == 2700 and record.materials[0].used_g == 12.5


@pytest.mark.parametrize(("text", "unit", "seconds"), [
    ("2h3m0s", "duration", 7380), ("1:02:03", "duration", 3723), ("6:31", "duration", 23460),
    ("1d 2h", "duration", 93600), ("90", "minutes", 5400), ("1,5", "hours", 5400),
    ("45 min", "s", 2700),
])
def test_durations(text: str, unit: str, seconds: int) -> None:
    assert parse_seconds(text, unit) == seconds


@pytest.mark.parametrize(("text", "number"), [
    ("1,234.5", 1234.5), ("1.234,5", 1234.5), ("12,5", 12.5), ("321.00 g", 321.0), ("-3", -3.0),
])
def test_numbers(text: str, number: float) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf", "1e999"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_rows_are_keyed_by_a_case_key_rule_only(tmp_path: Path) -> None:
    # A job name alone is no case key (two printers may both print "liver model"): only a
    # case-key rule over the job file's path keys a row here; the harvester keys the rest.
    rows = [ROW.replace('"a.gcode"', '"3DP-2026-001_kidney.gcode"'),
            ROW.replace('"a.gcode"', '"liver model.gcode"'), ROW.replace('"a.gcode"', '""')]
    records = _harvest(_pjh(tmp_path, rows))
    assert [r.case_key for r in records] == ["3DP-2026-001", None, None]


def test_harvester_keeps_row_keys_and_keys_other_rows_by_printer_and_job(
        tmp_path: Path) -> None:
    from printharvest.harvest.harvester import Harvester
    from printharvest.harvest.plugins import PluginHost
    from printharvest.rules.lab import Rules

    path = _pjh(tmp_path, [ROW.replace('"a.gcode"', '"3DP-2026-001_kidney.gcode"'),
                           ROW.replace('"a.gcode"', '""')], name="history.csv")
    outcome = Harvester(PluginHost.load(None, entry_points=False),
                        Rules.load(None)).harvest_paths([path])
    assert outcome.errors == []
    # never the log file's name: the row without a rule is its printer's job at its start
    assert [r.case_key for r in outcome.records] == [
        "3DP-2026-001", "unknown printer-2020-05-24T08:31:00"]
    assert outcome.items[0].rule_notes["case_key"] == "connector joblog"
    assert outcome.items[1].rule_notes["case_key"].startswith("default: printer and job")
