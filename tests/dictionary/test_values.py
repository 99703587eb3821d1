"""The one value parser: the way in (CLI, web) and the way out (export, report) agree.

Each test names a disagreement the two former parsers had (``validation.parse_value`` on the
way in, ``registry/values.typed_value`` on the way out, and the report's own duration reader).
"""

from __future__ import annotations

import pytest

from printharvest.dictionary.elements import Dictionary, Element
from printharvest.dictionary.validation import check_value
from printharvest.dictionary.values import (
    UNKNOWN,
    Duration,
    canonical,
    display_value,
    export_value,
    format_value,
    parse_text,
    value_label,
)
from printharvest.exceptions import ValidationError
from printharvest.registry.values import typed_value
from printharvest.reports.facts import duration_minutes, effort_state


@pytest.fixture(scope="module")
def draft() -> Dictionary:
    return Dictionary.load(None)


def element(draft: Dictionary, element_id: str) -> Element:
    found = draft.element(element_id)
    assert found is not None
    return found


def boolean() -> Element:
    return Element(id="x.flag", label="Flag", section="imaging", type="boolean")


@pytest.mark.parametrize(("text", "value"), [("on", True), ("off", False), ("Y", True),
                                             ("no", False), ("1", True), ("false", False)])
def test_yes_and_no_are_one_word_list_in_and_out(text: str, value: bool) -> None:
    # "on"/"off" were read on the way in but refused on the way out.
    assert parse_text(boolean(), text) is value
    assert typed_value(boolean(), "x.flag", text) is value


def test_a_word_that_is_not_yes_or_no_is_refused_both_ways() -> None:
    with pytest.raises(ValidationError, match="yes or no"):
        parse_text(boolean(), "maybe")
    with pytest.raises(ValidationError, match="yes or no"):
        typed_value(boolean(), "x.flag", "maybe")


@pytest.mark.parametrize("text", ["unknown", "UNK", "Unknown"])
def test_unknown_effort_is_one_word_list(draft: Dictionary, text: str) -> None:
    # "UNK" (the upload files' word) was unknown on the way out, an error on the way in.
    effort = element(draft, "effort.cad_clinician")
    assert parse_text(effort, text) == UNKNOWN
    assert export_value(effort, "effort.cad_clinician", text) == Duration(None, None)


@pytest.mark.parametrize(("text", "minutes"), [
    ("1h30m", 90), ("1 hour 30 minutes", 90), ("2 h", 120), ("45", 45), ("1:05", 65),
    ("90m", 90), ("2 hrs 15 min", 135)])
def test_durations_read_alike_in_and_out(draft: Dictionary, text: str, minutes: int) -> None:
    # "1 hour 30 minutes" was refused on the way in but read on the way out.
    effort = element(draft, "effort.cad_clinician")
    stored = parse_text(effort, text)
    assert stored == {"hours": minutes // 60, "minutes": minutes % 60}
    assert check_value(effort, stored) is None
    out = export_value(effort, "effort.cad_clinician", stored)
    assert isinstance(out, Duration) and out.total_minutes == minutes
    assert duration_minutes(stored) == minutes


@pytest.mark.parametrize("text", ["-1 h 75 min", "1.5h", "soon", "h", "1:75"])
def test_a_duration_the_form_refuses_the_report_does_not_count(draft: Dictionary,
                                                               text: str) -> None:
    # The report read "1.5h" as 90 minutes while the form refused it.
    effort = element(draft, "effort.cad_clinician")
    with pytest.raises(ValidationError):
        parse_text(effort, text)
    assert duration_minutes(text) is None
    assert effort_state(text) == "missing"


def test_effort_unknown_is_not_effort_missing() -> None:
    assert effort_state(UNKNOWN) == "unknown"
    assert effort_state(None) == "missing"
    assert effort_state({"hours": 0, "minutes": 0}) == "entered"


def test_multi_choice_splits_on_commas_and_semicolons_both_ways(draft: Dictionary) -> None:
    # The way in split on commas only, the way out on commas and semicolons.
    modalities = element(draft, "imaging.modalities")
    assert parse_text(modalities, "CT; MR") == ["CT", "MR"]
    assert typed_value(modalities, "imaging.modalities", "CT; MR") == ["CT", "MR"]


def test_a_choice_may_be_typed_as_its_label(draft: Dictionary) -> None:
    purpose = element(draft, "model.purpose")
    assert parse_text(purpose, "Surgical planning") == "surgical_planning"
    assert parse_text(purpose, "surgical_planning") == "surgical_planning"
    assert check_value(purpose, parse_text(purpose, "nonsense")) is not None


def test_canonical_values_pass_export_unchanged(draft: Dictionary) -> None:
    age = element(draft, "imaging.patient_age")
    assert canonical(age, "imaging.patient_age", 42) == 42
    assert canonical(age, "imaging.patient_age", "42") == 42
    with pytest.raises(ValidationError):
        canonical(age, "imaging.patient_age", 4.5)


def test_words_not_codes(draft: Dictionary) -> None:
    sex = element(draft, "imaging.patient_sex")
    assert display_value(sex, "F") == "Female"
    assert display_value(element(draft, "imaging.indication"), "surgical_planning") \
        == "Surgical planning"
    assert display_value(element(draft, "imaging.modalities"), ["CT", "MR"]) == "CT, MR"
    assert value_label(element(draft, "assessment.understanding"), "5") == "5 strongly agree"
    effort = element(draft, "effort.cad_clinician")
    assert display_value(effort, {"hours": 2, "minutes": 15}) == "2 h 15 min"
    assert display_value(effort, {"hours": 0, "minutes": 45}) == "45 min"
    assert format_value(effort, {"hours": 2, "minutes": 5}) == "2h05m"


def test_labels_must_name_values() -> None:
    with pytest.raises(ValueError, match="labels for codes that are not values"):
        Element(id="x.c", label="C", section="imaging", type="choice", values=["a"],
                labels={"b": "B"})
