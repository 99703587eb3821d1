"""The dictionary is data: the draft, a second dictionary, the validator's messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.validation import parse_value, validate
from printharvest.exceptions import ConfigError, ValidationError
from tests.support.cases import valid_value

ALT = Path(__file__).parent / "data" / "alt_dictionary.yaml"
SHARED_IDS = {
    "imaging.modalities", "imaging.study_count", "imaging.patient_age", "imaging.patient_sex",
    "imaging.indication", "imaging.organ_system", "model.object_type", "model.guide_type",
    "model.ordering_service", "model.part_count", "parts.region", "parts.subregion",
    "parts.structure", "parts.laterality", "parts.comment", "prints.printer_label",
    "prints.technology", "prints.material", "prints.optical_property", "prints.scale",
    "prints.copies", "procedure.use", "effort.cad_clinician", "assessment.confidence_after",
}


@pytest.fixture(scope="module")
def draft() -> Dictionary:
    return Dictionary.load(None)


def test_draft_keeps_the_shared_ids_and_says_it_is_a_draft(draft: Dictionary) -> None:
    assert draft.dictionary.draft
    assert {e.id for e in draft.elements} >= SHARED_IDS
    assert [s.id for s in draft.sections] == ["imaging", "model", "prints", "procedure",
                                              "effort", "assessment", "lab"]
    assert (draft.group("parts").min, draft.group("parts").max) == (1, 20)
    assert (draft.group("prints").min, draft.group("prints").max) == (1, 5)
    assert len([e for e in draft.elements if e.section == "effort"]) == 8
    assert all(e.type == "duration" for e in draft.section_elements("effort"))


def test_required_if_guide_type_and_laterality(draft: Dictionary) -> None:
    fields = {"model.object_type": "anatomic_model", "parts.1.region": "abdomen"}
    assert "model.guide_type" not in draft.missing(fields)
    assert "parts.1.laterality" not in draft.missing(fields)
    fields = {"model.object_type": "anatomic_guide", "parts.1.region": "abdomen",
              "parts.2.region": "upper_extremity", "parts.3.region": "breast"}
    missing = draft.missing(fields)
    assert "model.guide_type" in missing
    assert "parts.1.laterality" not in missing
    assert {"parts.2.laterality", "parts.3.laterality"} <= set(missing)
    problems = {p.element: p.message for p in validate(fields, draft)}
    assert "because Anatomic region is Upper extremity" in problems["parts.2.laterality"]
    assert "one of Left, Right" in problems["parts.2.laterality"]


def test_validator_names_the_element_and_what_is_expected(draft: Dictionary) -> None:
    fields = {
        "imaging.patient_age": 130,
        "imaging.patient_sex": "X",
        "imaging.modalities": ["CT", "PET-CT"],
        "prints.1.scale": 0,
        "effort.cad_clinician": {"hours": 1, "minutes": 75},
        "parts.21.region": "head",
        "prints.1.print_time_s": "not a dictionary element: ignored",
    }
    problems = {p.element: p.message for p in validate(fields, draft)}
    assert problems["imaging.patient_age"] == (
        "Patient age (years) is 130; expected a whole number from 0 to 90")
    assert "expected one of Male, Female, Other, Unknown" in problems["imaging.patient_sex"]
    assert "has PET-CT; expected one or more of CT" in problems["imaging.modalities"]
    assert "from 1 to 1000" in problems["prints.1.scale"]
    assert "hours and minutes" in problems["effort.cad_clinician"]
    assert problems["parts"] == "at most 20 anatomic part(s) are allowed; this case has 21"
    assert "prints.1.print_time_s" not in problems
    assert "imaging.indication" in problems and "is required" in problems["imaging.indication"]


def test_a_complete_case_validates(draft: Dictionary) -> None:
    fields = {}
    for element in draft.elements:
        numbers = [None] if element.group is None else [1]
        for n in numbers:
            fields[element.field_name(n)] = valid_value(element)
    assert validate(fields, draft) == []


def test_parse_value_per_type(draft: Dictionary) -> None:
    def parse(element_id: str, text: str) -> object:
        element = draft.element(element_id)
        assert element is not None
        return parse_value(element, text)

    assert parse("imaging.study_count", " 3 ") == 3
    assert parse("prints.scale", "50") == 50 and parse("prints.scale", "12.5") == 12.5
    assert parse("imaging.modalities", "CT, MR") == ["CT", "MR"]
    assert parse("effort.cad_clinician", "1h30m") == {"hours": 1, "minutes": 30}
    assert parse("effort.cad_clinician", "90m") == {"hours": 1, "minutes": 30}
    assert parse("effort.cad_clinician", "2:05") == {"hours": 2, "minutes": 5}
    assert parse("effort.cad_clinician", "45") == {"hours": 0, "minutes": 45}
    assert parse("effort.cad_clinician", "Unknown") == "unknown"
    assert parse("imaging.indication", "") is None
    with pytest.raises(ValidationError, match=r"imaging\.study_count: 'three' is not a whole"):
        parse("imaging.study_count", "three")
    with pytest.raises(ValidationError, match="hours and minutes"):
        parse("effort.cad_clinician", "soon")


def test_a_different_dictionary_changes_missing_and_validation(draft: Dictionary) -> None:
    alt = Dictionary.load_file(ALT)
    assert alt.missing({}) == ["patient.consent", "device.kind", "pieces.1.colour",
                               "pieces.1.build_time", "pieces.2.colour", "pieces.2.build_time"]
    fields = {"patient.consent": True, "device.kind": "implant", "pieces.1.colour": "red",
              "pieces.1.build_time": "unknown", "pieces.2.colour": "green",
              "pieces.2.build_time": {"hours": 0, "minutes": 5}, "pieces.4.colour": "red"}
    problems = {p.element: p.message for p in validate(fields, alt)}
    assert set(problems) >= {"device.implant_class", "pieces.2.colour", "pieces"}
    assert "imaging.indication" not in problems
    assert draft.missing(fields)[0] == "imaging.modalities"


def test_broken_dictionary_names_file_key_and_line(tmp_path: Path) -> None:
    text = ALT.read_text(encoding="utf-8").replace("type: boolean", "type: bolean")
    bad = tmp_path / "dictionary.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Dictionary.load_file(bad)
    assert str(caught.value).startswith(f"{bad}:9: elements.0.type")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(ALT.read_text(encoding="utf-8").replace(
        "element: device.kind", "element: device.nope"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"required_if names unknown element device\.nope"):
        Dictionary.load_file(unknown)
