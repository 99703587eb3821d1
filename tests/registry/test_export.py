"""Batch upload files and NRDR JSON: round trips, layout, formula guard, splitting, records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

from printharvest.exceptions import EgressError
from printharvest.privacy.egress import EgressGuard, release
from printharvest.registry.layout import UploadLayout, expand
from printharvest.registry.mapping import NrdrMapping, from_record
from printharvest.store.exports import ExportLog
from tests.support.registry import CLINICAL, harvested_home, make_ready


def _layout(app):  # type: ignore[no-untyped-def]
    return expand(UploadLayout.load(app.home.rules_dir), app.dictionary)


def test_layout_covers_every_dictionary_element(home: Path) -> None:
    app = harvested_home(home)
    columns = _layout(app)
    covered = {c.element.id for c in columns if c.element is not None}
    # every registry element, and none of the lab's own fields (they never leave)
    assert covered == {e.id for e in app.dictionary.elements if not e.lab_only}
    assert [c.name for c in columns[:2]] == ["FACILITY_ID", "CASE_ID"]
    # effort: hours, minutes and an unknown flag for each of the 8 kinds
    assert sum(1 for c in columns if c.name.startswith("EFFORT_")) == 24
    assert sum(1 for c in columns if c.name.endswith("_REGION")) == 20  # parts 1-20
    assert sum(1 for c in columns if c.name.endswith("_TECHNOLOGY")) == 5  # prints 1-5
    NrdrMapping.load(None).check(app.dictionary)


def test_psv_round_trip_crlf_equal_fields(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    result = run_cli("--home", str(home), "export", "--format", "psv", "--header")
    assert result.code == 0, result.err
    files = sorted(app.home.exports.glob("3dp_case_*.txt"))
    assert len(files) == 1
    data = files[0].read_bytes()
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.decode().split("\r\n")[:-1]
    columns = _layout(app)
    header = lines[0].split("|")
    assert header == [c.name for c in columns]
    records = [dict(zip(header, line.split("|"), strict=True)) for line in lines[1:]]
    assert len(records) == len(ids)
    assert all(len(line.split("|")) == len(columns) for line in lines)
    for case_id, record in zip(ids, records, strict=True):
        case = app.cases.get(case_id)
        assert record["CASE_ID"] == case.registry_id
        assert record["IMG_MODALITIES"] == "CT"
        assert record["IMG_PATIENT_AGE"] == "57"
        assert record["FACILITY_ID"] == "EMU-0001"  # from the configuration
        assert record["PART1_STRUCTURE"] == "bone"
        assert record["PART1_COMMENT"] == "tumour / margin shown"  # no pipe, no newline
        assert record["PART2_COMMENT"] == "'=renal artery"  # never read as a formula
        assert record["PRINT1_PARTS"] == "1;2"
        assert record["PART4_REGION"] == ""
        assert record["PRINT1_TECHNOLOGY"] == "material_extrusion"
        assert record["PRINT1_MATERIAL"] == case.value("prints.1.material")
        assert record["EFFORT_CONSULTATION_CLINICIAN_HRS"] == "0"
        assert record["EFFORT_CONSULTATION_CLINICIAN_MIN"] == "30"
        assert record["EFFORT_CONSULTATION_CLINICIAN_UNK"] == "N"
        assert record["EFFORT_SEGMENTATION_CLINICIAN_HRS"] == ""
        assert record["EFFORT_SEGMENTATION_CLINICIAN_MIN"] == ""
        assert record["EFFORT_SEGMENTATION_CLINICIAN_UNK"] == "Y"
        assert "UNK" not in record.values()
        assert record["EFFORT_CAD_NONCLINICIAN_HRS"] == "1"
        assert record["EFFORT_CAD_NONCLINICIAN_MIN"] == "10"
        assert record["ASSESS_CONFIDENCE_AFTER"] == "5"
        assert case.status == "exported"
        assert ExportLog(app.store).for_case(case_id)[0].file == files[0].name
        assert any(e["action"] == "export" for e in app.store.audit_log(case_id))
    assert case.case_key not in data.decode()
    # exported cases do not export again
    again = run_cli("--home", str(home), "export", "--format", "psv")
    assert again.code == 0 and "nothing to export" in again.out


def test_xlsx_round_trip_plain_values(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    result = run_cli("--home", str(home), "export", "--format", "xlsx", "--no-header", str(ids[0]))
    assert result.code == 0, result.err
    (path,) = app.home.exports.glob("3dp_case_*.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1
    columns = _layout(app)
    row = dict(zip([c.name for c in columns], rows[0], strict=False))
    assert row["CASE_ID"] == app.cases.get(ids[0]).registry_id
    assert row["IMG_STUDY_COUNT"] == 1 and row["PRINT1_SCALE"] == 100
    assert row["PART2_COMMENT"] == "=renal artery"
    for cells in sheet.iter_rows():
        for cell in cells:
            assert cell.data_type != "f"
    assert app.cases.get(ids[1]).status == "ready"


def test_only_ready_cases_export(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    result = run_cli("--home", str(home), "export", "--format", "psv", "1")
    assert result.code == 1 and "only ready cases leave" in result.err
    assert not list(app.home.exports.glob("*"))


def test_split_instead_of_exceeding_the_limit(home: Path) -> None:
    from printharvest.cli.export_cmd import exporter_for

    app = harvested_home(home, copies=3)
    make_ready(app)
    exporter = exporter_for(app)
    exporter.max_bytes = 1800
    result = exporter.export("psv")
    assert len(result.files) > 1 and result.warnings
    names = {p.name for p in result.files}
    assert len(names) == len(result.files)
    total = 0
    for path in result.files:
        data = path.read_bytes()
        assert len(data) <= 1800
        lines = data.split(b"\r\n")[:-1]
        assert not lines[0].startswith(b"FACILITY_ID|")  # no header row by default
        total += len(lines)
    assert total == 9
    # split files keep the 3dp_case_<alphanumeric> name the registry loads
    assert all(re.fullmatch(r"3dp_case_[0-9a-z]+\.txt", name) for name in names), names


def test_json_follows_the_mapping(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "export", "--format", "json").code == 0
    (path,) = app.home.exports.glob("3dp_case_*.json")
    body = json.loads(path.read_text())
    record = body["cases"][0]
    assert record["caseId"] == app.cases.get(ids[0]).registry_id
    assert record["effort"]["segmentationClinician"] == {"unknown": True}
    assert record["digitalModel"]["anatomicParts"][1]["comment"] == "=renal artery"
    assert record["digitalModel"]["purpose"] == "surgical_planning"
    _, fields = from_record(record, NrdrMapping.load(None))
    assert fields["imaging.modalities"] == CLINICAL["imaging.modalities"]
    assert fields["parts.1.laterality"] == "left"


def test_case_sheet_in_form_order(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    result = run_cli("--home", str(home), "sheet", "1")
    assert result.code == 0, result.err
    (path,) = app.home.exports.glob("3dp_case_*.html")
    html = path.read_text()
    positions = [html.index(s.label) for s in app.dictionary.sections]
    assert positions == sorted(positions)
    assert "@media print" in html and app.cases.get(1).case_key not in html
    assert app.cases.get(1).status == "needs_clinical"


def test_egress_refuses_names_and_paths() -> None:
    guard = EgressGuard()
    guard.add_path("/srv/lab/inbox/Smith_John_kidney/model.stl")
    with pytest.raises(EgressError) as caught:
        release(b'{"a": "smith_john_kidney"}', guard, "test body")
    assert "smith" not in str(caught.value).lower()
    for bad in (b"C:\\Users\\lab\\x", b"see /home/lab/jobs/a", b"part_7.stl"):
        with pytest.raises(EgressError):
            release(bad, EgressGuard(), "test")
    assert release(b"kidney|abdomen|1:30", guard, "ok") == b"kidney|abdomen|1:30"


def test_every_element_lands_in_its_column(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    from printharvest.registry.upload import text_cell

    app = harvested_home(home)
    ids = make_ready(app)
    cases = {i: app.cases.get(i) for i in ids}
    assert run_cli("--home", str(home), "export", "--format", "psv").code == 0
    (path,) = app.home.exports.glob("3dp_case_*.txt")
    lines = path.read_bytes().decode().split("\r\n")[:-1]  # no header row by default
    columns = _layout(app)
    filled = 0
    for line in lines:
        cells = dict(zip([c.name for c in columns], line.split("|"), strict=True))
        case = next(c for c in cases.values() if c.registry_id == cells["CASE_ID"])
        for column in columns:
            if column.field is None or column.element is None:
                continue
            value = case.value(column.field)
            if value is None or column.element.type in ("duration", "multi_choice"):
                if value is None:
                    assert cells[column.name] == "", column.name
                continue
            assert cells[column.name] == text_cell(value), column.name
            filled += 1
    assert filled >= 2 * 25


def test_a_name_in_a_value_skips_that_case_and_names_the_element(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    printed = next(r for r in app.cases.get(ids[0]).records if r.kind == "print")
    folder = Path(printed.source.path).parent.name
    app.cases.set_values(ids[0], {"parts.1.comment": f"from {folder}"}, "tester")
    result = run_cli("--home", str(home), "export", "--format", "psv")
    assert result.code == 1
    assert f"skipped case {ids[0]}" in result.err and "parts.1.comment" in result.err
    assert folder not in result.err
    assert app.cases.get(ids[0]).status == "ready"
    assert app.cases.get(ids[1]).status == "exported"


def test_dictionary_words_are_not_names() -> None:
    guard = EgressGuard()
    guard.add_path("/inbox/abdomen/left.stl")
    guard.allow(["abdomen", "left"])
    assert release(b"abdomen|left", guard, "ok")
    with pytest.raises(EgressError):
        release(b"left.stl", guard, "file name")


def test_xlsx_split_keeps_every_case_once(home: Path) -> None:
    from printharvest.cli.export_cmd import exporter_for
    from printharvest.registry.upload import xlsx_bytes

    app = harvested_home(home, copies=3)
    ids = make_ready(app)
    one = len(xlsx_bytes(None, [["x"] * 200] * 2))
    exporter = exporter_for(app)
    exporter.max_bytes = one  # a few rows fit, six do not
    result = exporter.export("xlsx")
    assert len(result.files) > 1 and result.warnings
    seen: list[str] = []
    for path in result.files:
        assert path.stat().st_size <= exporter.max_bytes
        rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert rows[0][1] != "CASE_ID"  # no header row by default
        seen.extend(str(r[1]) for r in rows)
    assert sorted(seen) == sorted(app.cases.get(i).registry_id for i in ids)


def test_the_registry_refuses_unknown_fields(home: Path) -> None:
    from printharvest.cli.export_cmd import exporter_for
    from printharvest.registry.mapping import unknown_keys

    app = harvested_home(home)
    make_ready(app)
    exporter = exporter_for(app)
    mapping = exporter.mapping()
    record = exporter.record(app.cases.get(1), mapping)
    assert unknown_keys(record, mapping) == []
    record["imaging"]["fileName"] = "x"
    record["digitalModel"]["anatomicParts"][0]["jobName"] = "y"
    assert unknown_keys(record, mapping) == ["digitalModel.anatomicParts[].jobName",
                                             "imaging.fileName"]


def test_no_value_is_dropped_for_want_of_a_column(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    layout = (home / "rules" / "registry")
    layout.mkdir(parents=True)
    text = (Path(__file__).parents[2] / "rules/registry/upload_layout.yaml").read_text()
    (layout / "upload_layout.yaml").write_text(text.replace("count: 20", "count: 1"))
    result = run_cli("--home", str(home), "export", "--format", "psv", str(ids[0]))
    assert result.code == 1 and "no column for" in result.err and "parts.2.region" in result.err
    assert app.cases.get(ids[0]).status == "ready" and not list(app.home.exports.glob("*"))


def test_a_layout_without_an_element_is_refused_before_any_case(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    layout = home / "rules" / "registry"
    layout.mkdir(parents=True)
    text = (Path(__file__).parents[2] / "rules/registry/upload_layout.yaml").read_text()
    text = text.replace("  - {name: MODEL_PURPOSE, element: model.purpose}\n", "")
    (layout / "upload_layout.yaml").write_text(text)
    result = run_cli("--home", str(home), "export", "--format", "psv")
    assert result.code == 2 and "no column for dictionary element(s) model.purpose" in result.err
    assert all(app.cases.get(i).status == "ready" for i in ids)
    doctor = run_cli("--home", str(home), "doctor")
    assert "FAIL  registry files" in doctor.out and "model.purpose" in doctor.out
