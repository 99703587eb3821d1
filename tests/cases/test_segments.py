"""The Digital Model from segmentations: codes first, names second, unknown parts to type."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.cases.assembly import assemble
from printharvest.dictionary.elements import Dictionary
from printharvest.exceptions import ConfigError
from printharvest.models import HarvestRecord, Part, Segment, Software, Source
from printharvest.rules.anatomy import AnatomyRules
from printharvest.rules.lab import Rules
from printharvest.store import StoredRecord


def stored(n: int, record_kind: str = "segmentation", *, segments: list[Segment] | None = None,
           software: Software | None = None, path: str = "", parts: list[Part] | None = None,
           part_count: int | None = None, volume: float | None = None) -> StoredRecord:
    record = HarvestRecord(
        kind=record_kind,  # type: ignore[arg-type]
        source=Source(path=path or f"/inbox/case/{n}.seg.nrrd", sha256=f"{n:064x}", size=1,
                      connector="test", connector_version="1"),
        segments=segments, software=software, parts=parts or [], part_count=part_count,
        volume_ml=volume)
    return StoredRecord(n, 1, record, {}, "2026-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def draft() -> Dictionary:
    return Dictionary.load(None)


def fields_of(records: list[StoredRecord], draft: Dictionary,
              anatomy: AnatomyRules | None = None) -> dict[str, object]:
    found = assemble(records, draft, Rules.load(None), anatomy or AnatomyRules.load(None))
    return {name: fv.value for name, fv in found.items()}


def test_codes_first_then_names_and_dominant_first(draft: Dictionary) -> None:
    segments = [
        # the name says "left" but the code says right: the code wins
        Segment(name="left thing", terminology={"type": "SCT:64033007",
                                                "type_modifier": "SCT:24028007"},
                volume_ml=10.0),
        Segment(name="Liver", terminology={}, volume_ml=900.0),  # name only
        Segment(name="Tumor", terminology={"type": "SCT:4147007", "region": "SCT:64033007",
                                           "region_modifier": "SCT:7771000"}, volume_ml=5.0),
    ]
    found = assemble([stored(1, segments=segments)], draft, Rules.load(None),
                     AnatomyRules.load(None))
    values = {name: fv.value for name, fv in found.items()}
    assert values["model.part_count"] == 3
    assert values["parts.1.structure"] == "liver"  # largest volume first
    assert values["parts.2.structure"] == "kidney" and values["parts.2.laterality"] == "right"
    assert values["parts.3.structure"] == "tumor" and values["parts.3.laterality"] == "left"
    assert values["parts.3.region"] == "abdomen"
    assert found["parts.2.laterality"].provenance.rule == "anatomy.yaml#code-right (segment 1)"
    assert found["parts.1.structure"].provenance.rule == "anatomy.yaml#liver (segment 2)"
    assert found["parts.3.structure"].provenance.path == "/inbox/case/1.seg.nrrd"


def test_unknown_terms_leave_the_part_to_type_with_its_name_as_hint(
        draft: Dictionary) -> None:
    segments = [Segment(name="Kidney", terminology={"type": "SCT:64033007"}),
                Segment(name="Blob 7", terminology={"type": "SCT:999999999"})]
    values = fields_of([stored(1, segments=segments)], draft)
    assert values["model.part_count"] == 2
    assert "parts.2.structure" not in values and "parts.2.region" not in values
    assert values["parts.2.segment"] == "Blob 7"
    assert draft.resolve("parts.2.segment") is None  # a local hint, never an element
    assert draft.instances(values, "parts") == 2  # the part is still shown, to type


def test_the_same_segmentation_twice_counts_once_and_meshes_do_not_add(
        draft: Dictionary) -> None:
    segments = [Segment(name="Kidney", terminology={"type": "SCT:64033007"})]
    mesh = stored(3, "mesh", path="/inbox/case/kidney.stl", parts=[Part(volume_ml=2.0)] * 4,
                  part_count=4, volume=8.0)
    values = fields_of([stored(1, segments=segments), stored(2, segments=segments), mesh],
                       draft)
    assert values["model.part_count"] == 1
    assert values["model.volume_ml"] == 8.0  # the meshes still give the volume


def test_software_in_the_lab_words_only_when_a_rule_knows_it(draft: Dictionary) -> None:
    known = fields_of([stored(1, segments=[], software=Software(name="3D Slicer",
                                                                 version="5.6.2"))], draft)
    assert known["model.software"] == "3D Slicer 5.6.2"
    found = assemble([stored(1, segments=[], software=Software(name="OddCAD", version="x"))],
                     draft, Rules.load(None), AnatomyRules.load(None))
    assert found["model.software"].value == "OddCAD x"
    assert found["model.software"].provenance.rule is None  # so the egress gate keeps it home


def test_a_lab_extends_the_code_map(tmp_path: Path, draft: Dictionary) -> None:
    shipped = AnatomyRules.load(None)
    text = Path(__file__).resolve().parents[2].joinpath("rules", "anatomy.yaml").read_text()
    text = text.replace("codes:\n", "codes:\n  - {name: code-ureter, codes: ['SCT:87953007'],"
                                    " like: kidney, structure: ureter}\n", 1)
    (tmp_path / "anatomy.yaml").write_text(text)
    lab = AnatomyRules.load(tmp_path)
    segment = Segment(name="x", terminology={"type": "SCT:87953007"})
    assert "parts.1.structure" not in fields_of([stored(1, segments=[segment])], draft, shipped)
    values = fields_of([stored(1, segments=[segment])], draft, lab)
    assert values["parts.1.structure"] == "ureter" and values["parts.1.region"] == "abdomen"


def test_a_code_rule_like_an_unknown_keyword_rule_is_refused(tmp_path: Path) -> None:
    (tmp_path / "anatomy.yaml").write_text(
        "keywords: []\ncodes:\n  - {name: c, codes: ['SCT:1'], like: nothing}\n")
    with pytest.raises(ConfigError, match="nothing"):
        AnatomyRules.load(tmp_path)


def test_several_mesh_files_are_one_part_each(draft: Dictionary) -> None:
    """One mesh per segment: a ribs file of 3 bodies is still one part."""
    ribs = stored(1, "mesh", path="/inbox/case/ribs.stl", parts=[Part(volume_ml=1.0)] * 3,
                  part_count=3, volume=3.0)
    liver = stored(2, "mesh", path="/inbox/case/Left kidney.stl", parts=[Part(volume_ml=9.0)],
                   part_count=1, volume=9.0)
    values = fields_of([ribs, liver], draft)
    assert values["model.part_count"] == 2
    assert values["parts.1.structure"] == "kidney" and values["parts.1.laterality"] == "left"
    assert values["parts.2.structure"] == "bone"  # ribs, in the registry's terms


def test_segments_take_the_volume_of_the_mesh_exported_from_them(draft: Dictionary) -> None:
    segments = [Segment(name="Tumor", terminology={"type": "SCT:4147007"}),
                Segment(name="Right kidney", terminology={"type": "SCT:64033007"})]
    kidney = stored(2, "mesh", path="/inbox/case/Segmentation_Right kidney.stl",
                    parts=[Part(volume_ml=90.0)], part_count=1, volume=90.0)
    tumour = stored(3, "mesh", path="/inbox/case/Segmentation_Tumor.stl",
                    parts=[Part(volume_ml=4.0)], part_count=1, volume=4.0)
    values = fields_of([stored(1, segments=segments), tumour, kidney], draft)
    assert values["parts.1.structure"] == "kidney"  # the larger mesh leads
    assert values["parts.2.structure"] == "tumor"
    assert values["model.volume_ml"] == 94.0


def test_a_csv_color_tables_codes_map_like_a_seg_nrrds(tmp_path: Path, draft: Dictionary) -> None:
    """A label map's CSV color table: codes through the ``codes:`` rules, names say nothing."""
    from printharvest.connectors.probe import probe_file
    from printharvest.connectors.segmentation.colortable import SlicerColorTableConnector

    terms = ",".join(f"{p}_{s}" for p in ("Category", "Type", "TypeModifier", "Region",
                                          "RegionModifier")
                     for s in ("CodingScheme", "CodeValue", "CodeMeaning"))
    table = tmp_path / "label.csv"
    table.write_text(
        f'"LabelValue","Name","Color_R","Color_G","Color_B","Color_A",{terms}\n'
        '1,"Segment_1",1,2,3,255,"SCT","123037004","A","SCT","64033007","K","SCT","24028007",'
        '"R","","","","","",""\n'
        '2,"Segment_2",1,2,3,255,"SCT","49755003","M","SCT","4147007","M","","","","SCT",'
        '"64033007","K","SCT","7771000","L"\n', encoding="utf-8")
    [record] = SlicerColorTableConnector().harvest(probe_file(table))
    found = assemble([StoredRecord(1, 1, record, {}, "2026-01-01T00:00:00+00:00")], draft,
                     Rules.load(None), AnatomyRules.load(None))
    values = {name: fv.value for name, fv in found.items()}
    assert values["model.part_count"] == 2
    assert values["parts.1.structure"] == "kidney" and values["parts.1.laterality"] == "right"
    assert values["parts.2.structure"] == "tumor" and values["parts.2.laterality"] == "left"
    assert values["model.software"] == "3D Slicer"
    assert found["parts.1.structure"].provenance.rule == "anatomy.yaml#code-kidney (segment 1)"
