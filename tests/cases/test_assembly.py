"""Rules from records to fields: prints grouping and limits, anatomy hints, rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.cases.assembly import UNPLACED_PRINTS, assemble
from printharvest.dictionary.elements import Dictionary
from printharvest.exceptions import ConfigError
from printharvest.models import HarvestRecord, Material, Part, Printer, Source
from printharvest.rules.anatomy import AnatomyRules
from printharvest.rules.lab import Rules
from printharvest.store import StoredRecord


def job(n: int, printer: str, material: str, *, kind: str = "print",
        parts: list[Part] | None = None, part_count: int | None = None) -> StoredRecord:
    record = HarvestRecord(
        kind=kind,  # type: ignore[arg-type]
        source=Source(path=f"/inbox/case/{n}.gcode", sha256=f"{n:064x}", size=1,
                      connector="test", connector_version="1"),
        printer=Printer(model=printer, label=printer) if kind == "print" else None,
        technology="material_extrusion" if kind == "print" else None,
        materials=[Material(name=material, used_g=2.0)] if kind == "print" else [],
        print_time_s=60 if kind == "print" else None,
        parts=parts or [], part_count=part_count)
    return StoredRecord(n, 1, record, {}, "2026-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def draft() -> Dictionary:
    return Dictionary.load(None)


def test_copies_are_not_prints_and_overflow_is_kept(draft: Dictionary) -> None:
    records = [job(1, "A", "PLA"), job(2, "A", "PLA"), job(3, "A", "PLA"), job(4, "A", "PETG")]
    records += [job(10 + i, f"P{i}", "PLA") for i in range(5)]
    fields = assemble(records, draft, Rules.load(None), AnatomyRules.load(None))
    assert fields["prints.1.copies"].value == 3
    assert fields["prints.1.print_time_s"].value == 180
    assert fields["prints.1.material_used_g"].value == 6.0
    assert fields["prints.2.material"].value == "PETG"
    assert fields["prints.2.copies"].value == 1
    assert "prints.6.material" not in fields  # the dictionary allows 5 prints
    unplaced = fields[UNPLACED_PRINTS].value
    assert [u["printer"] for u in unplaced] == ["P3", "P4"]
    assert all(fields[f"prints.{n}.scale"].value == 100 for n in range(1, 6))
    assert fields["prints.1.optical_property"].value == "opaque"


def test_same_printer_and_material_but_other_parts_is_another_print(draft: Dictionary) -> None:
    a = job(1, "A", "PLA", parts=[Part(name="liver")])
    b = job(2, "A", "PLA", parts=[Part(name="liver")])
    c = job(3, "A", "PLA", parts=[Part(name="portal vein")])
    fields = assemble([a, b, c], draft)
    assert fields["prints.1.copies"].value == 2 and fields["prints.2.copies"].value == 1


def test_named_mesh_parts_dominant_first_with_hints(draft: Dictionary) -> None:
    mesh = job(5, "", "", kind="mesh", part_count=3, parts=[
        Part(name="L_kidney", volume_ml=150.0), Part(name="aorta", volume_ml=300.0),
        Part(name="thing", volume_ml=1.0)])
    fields = assemble([mesh], draft, Rules.load(None), AnatomyRules.load(None))
    assert fields["model.part_count"].value == 3
    assert fields["parts.1.structure"].value == "aorta"
    assert fields["parts.2.structure"].value == "kidney"
    assert fields["parts.2.laterality"].value == "left"
    assert fields["parts.2.laterality"].provenance.rule == "anatomy.yaml#side-left"
    assert "parts.3.structure" not in fields  # no rule knows "thing": left to the data manager
    assert fields["model.object_type"].value == "anatomic_model"


def test_anatomy_hints_are_registry_terms(draft: Dictionary) -> None:
    rules = AnatomyRules.load(None)
    humerus = rules.hints("R_humerus.stl").values
    assert humerus == {"laterality": "right", "region": "upper_extremity",
                       "subregion": "upper_arm", "structure": "bone"}
    # every word a shipped rule prefills is a value of the dictionary's pick-list
    for rule in rules.keywords:
        for key in ("region", "subregion", "structure", "laterality"):
            value = getattr(rule, key)
            element = draft.element(f"parts.{key}")
            assert element is not None
            assert value is None or value in element.values, (rule.name, key, value)
    # laterality is required where the public vocabulary marks the term
    from printharvest.dictionary.validation import validate

    fields = {"parts.1.region": "abdomen", "parts.1.structure": "kidney"}
    assert "parts.1.laterality" in {p.element for p in validate(fields, draft)}
    fields = {"parts.1.region": "head", "parts.1.subregion": "orbit", "parts.1.structure": "bone"}
    assert "parts.1.laterality" in {p.element for p in validate(fields, draft)}
    fields = {"parts.1.region": "abdomen", "parts.1.structure": "liver"}
    assert "parts.1.laterality" not in {p.element for p in validate(fields, draft)}


def test_anatomy_rule_errors_name_file_rule_and_line(tmp_path: Path) -> None:
    (tmp_path / "anatomy.yaml").write_text(
        "keywords:\n"
        "  - {name: ok, match: 'aorta', structure: aorta}\n"
        "  - {name: broken, match: '(unclosed', structure: x}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        AnatomyRules.load(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'anatomy.yaml'}:3: keywords.1.match (rule broken)")
    assert "not a valid regular expression" in message
    (tmp_path / "anatomy.yaml").write_text(
        "keywords:\n  - {name: g, match: 'guide', object_type: gadget}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"anatomy.yaml:2: keywords.0.object_type"):
        AnatomyRules.load(tmp_path)


def test_doctor_flags_anatomy_hints_the_dictionary_would_refuse(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (home / "rules").mkdir()
    (home / "rules" / "anatomy.yaml").write_text(
        "keywords:\n  - {name: belly, match: 'belly', region: tummy}\n", encoding="utf-8")
    result = run_cli("--home", str(home), "doctor")
    assert result.code == 1
    assert "FAIL  anatomy: anatomy.yaml rule belly: region 'tummy' is not one of" in result.out


def test_unplaced_prints_read_as_text(draft: Dictionary) -> None:
    from printharvest.dictionary.validation import format_value

    records = [job(10 + i, f"P{i}", "PLA") for i in range(6)]
    fields = assemble(records, draft)
    text = format_value(None, fields[UNPLACED_PRINTS].value)
    assert text.startswith("printer P5, technology material_extrusion, material PLA, copies 1")


@pytest.mark.parametrize(("model", "expected"), [
    ("Fortus 250mc", "Fortus 250mc"), ("Fortus 450mc Jane Doe", "Fortus 450mc"),
    ("Form 3B+", "Form 3B+"), ("Ultimaker S5 Pro Bundle", "Ultimaker S5 Pro"),
    ("X5SA", None),
])
def test_printer_models_keep_their_model_code_but_no_free_text(model: str,
                                                                expected: str | None) -> None:
    known = Rules.load(None).printer_model(Printer(model=model))
    assert (known[0] if known else None) == expected
