"""Cases from the sample jobs: prefill, typed values, conflicts, status and audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.cases.model import FieldValue
from printharvest.cases.service import CaseService, IngestReport
from printharvest.dictionary.validation import CaseNotReadyError
from printharvest.exceptions import ValidationError
from tests.support.cases import valid_value


@pytest.fixture
def app(home: Path) -> Iterator[App]:
    opened = App.open(home)
    yield opened
    opened.close()


def ingest(app: App, *paths: Path) -> None:
    outcome = app.harvester.harvest_paths(list(paths), grouping="case")
    assert not outcome.errors, outcome.errors
    app.cases.ingest(outcome)


def fill_missing(service: CaseService, case_id: int) -> None:
    case = service.get(case_id)
    values = {}
    for name in case.missing:
        ref = service.dictionary.resolve(name)
        assert ref is not None
        values[name] = valid_value(ref.element)
    service.set_values(case_id, values, "tester")


def test_after_harvest_only_clinical_elements_remain(app: App, sample_jobs_copy: Path) -> None:
    ingest(app, sample_jobs_copy)
    cases = app.cases.list()
    assert len(cases) == len([p for p in sample_jobs_copy.iterdir() if p.is_dir()])
    for case in cases:
        assert {r.kind for r in case.records} - {"segmentation"} == {"imaging", "mesh", "print"}
        harvestable_missing = []
        for name in case.missing:
            ref = app.dictionary.resolve(name)
            assert ref is not None
            if ref.element.harvested:
                harvestable_missing.append(name)
        assert harvestable_missing == [], (case.case_key, harvestable_missing)
        clinical = [n for n in case.missing
                    if not app.dictionary.resolve(n).element.harvested]  # type: ignore[union-attr]
        assert clinical, case.case_key  # the clinical fields are never invented


def test_sample_prefill_values_and_provenance(app: App, sample_jobs_copy: Path) -> None:
    ingest(app, sample_jobs_copy)
    kidney, mandible, segmented = app.cases.list()
    assert kidney.value("model.part_count") == 2
    assert kidney.value("parts.1.structure") == "kidney"  # the larger body, dominant first
    assert kidney.value("parts.2.structure") == "tumor"  # the registry's word
    assert kidney.value("parts.2.region") == "abdomen"
    assert kidney.value("model.object_type") == "anatomic_model"
    assert kidney.value("prints.1.optical_property") == "opaque"
    assert kidney.value("prints.1.scale") == 100
    assert kidney.value("prints.1.copies") == 1
    rule = kidney.fields["prints.1.optical_property"].provenance
    assert (rule.rule, rule.connector) == ("materials.yaml#filament-rigid", "prusaslicer")
    assert rule.sha256 == kidney.records[0].source.sha256 or rule.sha256 in {
        r.source.sha256 for r in kidney.records}
    assert kidney.fields["parts.1.structure"].provenance.rule == "anatomy.yaml#kidney"
    assert mandible.value("model.object_type") == "anatomic_guide"
    # registry terms, not our own: a mandible is head / face / bone
    assert [mandible.value(f"parts.1.{k}") for k in ("region", "subregion", "structure")] == [
        "head", "face", "bone"]
    assert "model.guide_type" in mandible.missing  # a guide needs its guide type
    # the segmentation case: parts from the Slicer scene's codes
    assert segmented.value("model.part_count") == 3
    assert segmented.value("model.software") == "3D Slicer 5.6.2"
    assert (segmented.value("parts.1.structure"), segmented.value("parts.1.laterality")) \
        == ("kidney", "right")
    assert segmented.value("parts.2.structure") == "tumor"  # the registry's term
    assert segmented.fields["parts.2.structure"].provenance.rule \
        == "anatomy.yaml#code-mass (segment 2)"
    assert (segmented.value("parts.3.structure"), segmented.value("parts.3.region")) \
        == ("aorta", "chest")
    assert segmented.value("parts.3.segment") == "Aorta"  # the local hint
    assert not any(name.startswith("parts.") for name in segmented.missing)


def test_typed_value_wins_and_a_later_harvest_is_a_conflict(app: App,
                                                            sample_jobs_copy: Path) -> None:
    job = sample_jobs_copy / "3DP-2026-001_kidney"
    mesh = job / "kidney_tumour.stl"
    (sample_jobs_copy.parent / "later").mkdir()
    moved = mesh.rename(sample_jobs_copy.parent / "later" / mesh.name)
    ingest(app, sample_jobs_copy)
    case_id = app.cases.list()[0].id
    app.cases.set_values(case_id, {"model.part_count": 3, "parts.1.structure": "liver"}, "dm")
    later = sample_jobs_copy.parent / "later_inbox" / job.name
    later.mkdir(parents=True)
    moved.rename(later / moved.name)
    ingest(app, later.parent)
    case = app.cases.get(case_id)
    assert case.value("model.part_count") == 3  # typed wins
    assert [(c.field, c.user_value, c.harvested_value) for c in case.conflicts] == [
        ("model.part_count", 3, 2), ("parts.1.structure", "liver", "kidney")]
    assert any(p.element == "model.part_count" for p in app.cases.validate(case_id))
    case = app.cases.resolve_conflict(case_id, "parts.1.structure", "typed", "dm")
    assert case.value("parts.1.structure") == "liver"
    case = app.cases.resolve_conflict(case_id, "model.part_count", "harvested", "dm")
    assert case.value("model.part_count") == 2 and case.conflicts == []
    assert [e["action"] for e in app.cases.audit(case_id)].count("keep_typed") == 1
    # Typing over the harvested value now is a decision, not a conflict.
    app.cases.set_values(case_id, {"model.part_count": 4}, "dm")
    case = app.cases.get(case_id)
    assert case.conflicts == [] and case.value("model.part_count") == 4
    assert not any(p.element == "model.part_count" for p in app.cases.validate(case_id))
    with pytest.raises(ValidationError, match="no conflict"):
        app.cases.resolve_conflict(case_id, "model.part_count", "typed", "dm")


def test_status_workflow_and_audit(app: App, sample_jobs_copy: Path) -> None:
    ingest(app, sample_jobs_copy)
    case_id = app.cases.list()[1].id
    with pytest.raises(CaseNotReadyError) as caught:
        app.cases.mark_ready(case_id, "dm")
    assert any(p.element == "model.guide_type" for p in caught.value.problems)
    assert app.cases.get(case_id).status == "needs_clinical"
    fill_missing(app.cases, case_id)
    assert app.cases.mark_ready(case_id, "dm").status == "ready"
    assert app.cases.counts()["ready"] == 1
    with pytest.raises(ValidationError, match="cannot become accepted"):
        app.cases.set_status(case_id, "accepted", "dm")
    assert app.cases.set_status(case_id, "exported", "registry").status == "exported"
    # An edit that breaks the case sends it back to needs_clinical, audited.
    typed_before = app.store.field_values(case_id).get("imaging.patient_age", {}).get("user")
    case = app.cases.set_values(case_id, {"imaging.patient_age": 200}, "dm")
    assert case.status == "needs_clinical"
    log = app.cases.audit(case_id)
    status_changes = [(e["actor"], e["old"], e["new"]) for e in log if e["field"] == "status"]
    assert status_changes == [("dm", "needs_clinical", "ready"), ("registry", "ready", "exported"),
                              ("dm", "exported", "needs_clinical")]
    typed = [e for e in log if e["field"] == "imaging.patient_age"]
    # The audit's old value is the previously typed one (none when the age came from DICOM).
    old = None if typed_before is None else json.dumps(typed_before.value)
    assert typed[-1]["old"] == old and typed[-1]["new"] == "200" and typed[-1]["at"]
    with pytest.raises(ValidationError, match="not an element"):
        app.cases.set_values(case_id, {"imaging.no_such": 1}, "dm")
    with pytest.raises(ValidationError, match="from 1 to 5"):
        app.cases.set_values(case_id, {"prints.6.material": "x"}, "dm")


def test_a_later_disagreeing_harvest_sends_a_ready_case_back(app: App,
                                                             sample_jobs_copy: Path) -> None:
    mesh = sample_jobs_copy / "3DP-2026-001_kidney" / "kidney_tumour.stl"
    later = sample_jobs_copy.parent / "later" / "3DP-2026-001_kidney"
    later.mkdir(parents=True)
    mesh.rename(later / mesh.name)
    ingest(app, sample_jobs_copy)
    case_id = app.cases.list()[0].id
    fill_missing(app.cases, case_id)  # types model.part_count=1 among the rest
    assert app.cases.mark_ready(case_id, "dm").status == "ready"
    ingest(app, later.parent)  # the mesh says 2 parts
    case = app.cases.get(case_id)
    assert case.status == "needs_clinical" and case.value("model.part_count") == 1
    assert {"model.part_count", "parts.1.structure"} <= {c.field for c in case.conflicts}
    back = [e for e in app.cases.audit(case_id) if e["field"] == "status"][-1]
    assert (back["actor"], back["old"], back["new"]) == ("harvest", "ready", "needs_clinical")


def test_list_reads_in_batch_what_get_reads_case_by_case(app: App,
                                                         sample_jobs_copy: Path) -> None:
    ingest(app, sample_jobs_copy)
    service = app.cases
    ids = [c.id for c in service.list()]
    assert len(ids) >= 3
    # a record linked to a second case (a shared series), a typed value, a conflict kept
    # and one still open
    first, second = service.get(ids[0]), service.get(ids[1])
    record = app.store.records_for_case(first.id)[0]
    assert service.link_record(record.id, second.case_key, IngestReport(), "tester")
    harvested = sorted(n for n, fv in first.fields.items() if fv.provenance.origin == "harvest"
                       and isinstance(fv.value, int) and not isinstance(fv.value, bool))
    assert len(harvested) >= 2
    for name in harvested[:2]:
        service.set_values(first.id, {name: first.fields[name].value + 1}, "tester")
    later = {n: fv for n, fv in first.fields.items() if fv.provenance.origin == "harvest"}
    for name in harvested[:2]:  # a later harvest says something else again
        later[name] = FieldValue(value=first.fields[name].value + 2,
                                 provenance=first.fields[name].provenance)
    with app.store.transaction():
        app.store.replace_harvested_fields(first.id, later)
    service.resolve_conflict(first.id, harvested[0], "typed", "tester")
    fill_missing(service, ids[2])
    service.mark_ready(ids[2], "tester")

    one_by_one = [service.get(i) for i in ids]
    assert [c.field for c in service.get(first.id).conflicts] == [harvested[1]]
    assert len(service.get(second.id).records) == len(
        second.records) + 1
    assert service.list() == one_by_one
    assert service.list("ready") == [c for c in one_by_one if c.status == "ready"] != []
    assert service.list(search=first.case_key[-3:]) == [
        c for c in one_by_one if first.case_key[-3:] in c.case_key]
    assert service.list(search="no such case") == []
