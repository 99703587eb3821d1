"""Registry fidelity: one outgoing step for file and API, nothing silently dropped, the
dictionary's relations (indication by organ system, a print's parts), the upload result, the
printer library."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from printharvest.cli.export_cmd import exporter_for
from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.validation import validate
from printharvest.exceptions import ConfigError
from printharvest.registry.mapping import NrdrMapping, unmapped
from printharvest.registry.outgoing import OutgoingStep, version_hash
from printharvest.store.exports import ExportLog
from tests.support.registry import harvested_home, make_ready

ALT = Path(__file__).parents[1] / "dictionary" / "data" / "alt_dictionary.yaml"


def test_one_outgoing_step_prepares_the_file_and_the_transaction_alike(home: Path) -> None:
    app = harvested_home(home)
    ids = make_ready(app)
    exporter = exporter_for(app)
    assert isinstance(exporter.outgoing, OutgoingStep)
    prepared = exporter.outgoing.prepare()
    assert [item.case.id for item in prepared.items] == ids and not prepared.skipped
    for item in prepared.items:
        assert item.version == version_hash(item.record)
        assert item.record == exporter.record(item.case, exporter.mapping())
    result = exporter.export("json")
    body = json.loads(result.files[0].read_text())
    assert body["cases"] == [item.record for item in prepared.items]
    # the export log keeps the same version hash the outbox would key a transaction on
    assert [ExportLog(app.store).for_case(i)[0].version_hash for i in ids] == [
        item.version for item in prepared.items]


def test_the_submitter_has_no_selection_of_its_own() -> None:
    import inspect

    from printharvest.nrdr import outbox

    source = inspect.getsource(outbox)
    for private in ("problems_for", "check_values", "element_values", "to_record",
                    "exporter.select", "exporter.releasable"):
        assert private not in source, private


def test_swapped_dictionary_without_mapping_is_refused_everywhere(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    target = home / "rules" / "registry"
    target.mkdir(parents=True)
    shutil.copy(ALT, target / "dictionary.yaml")
    alt = Dictionary.load_file(ALT)
    mapping = NrdrMapping.load(None)
    lost = unmapped(mapping, alt)
    assert lost == [e.id for e in alt.elements]
    with pytest.raises(ConfigError, match="no JSON key for dictionary element"):
        mapping.check(Dictionary.load(home / "rules"))
    # the draft mapping names elements the alternative dictionary lacks, and lacks its own:
    # export and submit stop with a configuration error (exit 2) instead of sending less
    assert run_cli("--home", str(home), "submit").code == 2
    assert run_cli("--home", str(home), "export", "--format", "json").code == 2
    doctor = run_cli("--home", str(home), "doctor")
    assert doctor.code == 2 and "FAIL  registry files" in doctor.out
    assert "patient.consent" in doctor.out


def test_draft_mapping_and_layout_cover_the_draft_dictionary() -> None:
    draft = Dictionary.load(None)
    mapping = NrdrMapping.load(None)
    assert unmapped(mapping, draft) == []
    mapping.check(draft)
    assert mapping.meaning("PartiallySuccessful") == "partial"
    assert mapping.meaning("UpdatedWithNewTransaction") == "replaced"
    assert mapping.meaning("posted") == "accepted" and mapping.meaning("nonsense") is None
    assert set(mapping.states) == {"Loading", "Received", "ValidationSuccessful", "Posted",
                                   "PartiallySuccessful", "ValidationFail",
                                   "UpdatedWithNewTransaction", "Failed"}


def test_indication_is_a_condition_of_the_chosen_organ_system() -> None:
    draft = Dictionary.load(None)
    indication = draft.element("imaging.indication")
    assert indication is not None and "surgical_planning" not in indication.values
    assert draft.element("model.purpose") is not None  # purpose is a Digital Model field
    fine = {"imaging.organ_system": "genitourinary", "imaging.indication": "renal_tumour"}
    assert "imaging.indication" not in {p.element for p in validate(fine, draft)}
    wrong = {"imaging.organ_system": "cardiac", "imaging.indication": "renal_tumour"}
    problems = {p.element: p.message for p in validate(wrong, draft)}
    assert "not a value for imaging.organ_system cardiac" in problems["imaging.indication"]
    assert draft.allowed(indication, {"imaging.organ_system": "breast"}) == [
        "breast_cancer", "breast_reconstruction", "other_breast"]


def test_anatomy_pick_lists_follow_the_public_vocabulary() -> None:
    draft = Dictionary.load(None)
    region, subregion, structure = (draft.element(f"parts.{k}")
                                    for k in ("region", "subregion", "structure"))
    assert region is not None and subregion is not None and structure is not None
    assert len(region.values) == 9 and "whole_body" not in region.values
    assert len(subregion.values) == 23 and len(structure.values) == 60
    assert structure.type == "choice" and subregion.type == "choice"
    problems = {p.element: p.message for p in validate(
        {"parts.1.region": "abdomen", "parts.1.subregion": "forearm",
         "parts.1.structure": "liver"}, draft)}
    assert "parts.1.subregion" in problems


def test_a_print_is_a_set_of_the_case_s_parts() -> None:
    draft = Dictionary.load(None)
    parts = draft.element("prints.parts")
    assert parts is not None and parts.required and parts.choices_from == "parts"
    fields = {"parts.1.region": "chest", "parts.1.structure": "aorta",
              "parts.2.region": "chest", "parts.2.structure": "lung"}
    assert draft.allowed(parts, fields) == ["1", "2"]
    missing = {p.element for p in validate(fields, draft)}
    assert "prints.1.parts" in missing  # at least one part is required
    problems = {p.element: p.message for p in validate({**fields, "prints.1.parts": ["1", "3"]},
                                                       draft)}
    assert "3: the case has no such parts entry" in problems["prints.1.parts"]
    ok = {p.element for p in validate({**fields, "prints.1.parts": ["2"]}, draft)}
    assert "prints.1.parts" not in ok


def test_unsourced_lists_say_they_are_guesses() -> None:
    root = Path(__file__).parents[2]
    text = (root / "rules/registry/dictionary.yaml").read_text()
    for element in ("model.ordering_service", "model.guide_type", "procedure.use",
                    "prints.optical_property", "prints.copies", "prints.material_class",
                    "model.purpose", "imaging.indication", "assessment.understanding"):
        line = next(i for i, t in enumerate(text.splitlines())
                    if f"id: {element}," in t or t.strip() == f"- id: {element}")
        before = "\n".join(text.splitlines()[max(0, line - 4):line])
        assert "LAB-EDITABLE GUESS" in before, element
    table = (root / "docs/dictionary.md").read_text()
    assert "| element | source | confidence |" in table
    for element in ("imaging.indication", "parts.structure", "model.ordering_service"):
        assert f"`{element}`" in table


def test_upload_result_marks_exported_cases(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "export", "--format", "psv").code == 0
    first, second = (app.cases.get(i) for i in ids[:2])
    result = home / "result.txt"
    result.write_text("CASE ID|STATUS|MESSAGE\r\n"
                      f"{first.registry_id}|Posted|\r\n"
                      f"{second.registry_id}|ValidationFail|PART1_LATERALITY: required\r\n"
                      "NOSUCHCASE|Posted|\r\n", encoding="utf-8")
    done = run_cli("--home", str(home), "upload-result", str(result))
    assert done.code == 1 and "no case with registry id 'NOSUCHCASE'" in done.err
    assert f"case {first.id}: accepted" in done.out and f"case {second.id}: rejected" in done.out
    assert app.cases.get(first.id).status == "accepted"
    assert app.cases.get(second.id).status == "rejected"
    log = app.store.conn.execute("SELECT result, result_message FROM registry_exports"
                                 " WHERE case_id = ?", (second.id,)).fetchone()
    assert tuple(log) == ("rejected", "PART1_LATERALITY: required")
    assert any("PART1_LATERALITY" in str(e.get("new")) for e in app.store.audit_log(second.id))
    binary = home / "result.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00garbage")
    bad = run_cli("--home", str(home), "upload-result", str(binary))
    assert bad.code != 0 and "Traceback" not in bad.err and "not a text file" in bad.err


def test_printer_library_and_unknown_labels(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    listing = run_cli("--home", str(home), "printers")
    assert listing.code == 0
    assert "Printer label" in listing.out and "Technology" in listing.out
    assert "Prusa MK4S (bench 1)" in listing.out and "material extrusion" in listing.out
    as_json = json.loads(run_cli("--home", str(home), "printers", "--json").out)
    assert as_json[0] == {"Printer label": "Prusa MK4S (bench 1)",
                          "Manufacturer": "Prusa Research", "Model": "MK4S",
                          "Technology": "material extrusion"}
    app.cases.set_values(1, {"prints.1.printer_label": "Bench printer nobody registered"}, "dm")
    doctor = run_cli("--home", str(home), "doctor")
    assert "warn  printers: case 1: prints.1.printer_label 'Bench printer nobody registered'" \
        in doctor.out
