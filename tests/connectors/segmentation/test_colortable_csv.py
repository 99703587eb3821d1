"""3D Slicer CSV color tables: names and codes, Slicer's quoting, and other CSVs left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.connectors.probe import probe_file
from printharvest.connectors.segmentation.colortable import SlicerColorTableConnector
from printharvest.exceptions import CorruptFileError
from printharvest.harvest.harvester import Harvester
from printharvest.harvest.plugins import PluginHost
from printharvest.rules.lab import Rules
from tests.support.paths import SAMPLE_JOBS

SAMPLE = SAMPLE_JOBS / "formats" / "slicer-ctbl" / "kidney_label_ColorTable.csv"
TERMS = ",".join(f"{p}_{s}" for p in ("Category", "Type", "TypeModifier", "Region",
                                      "RegionModifier")
                 for s in ("CodingScheme", "CodeValue", "CodeMeaning"))
HEADER = f"LabelValue,Name,Color_R,Color_G,Color_B,Color_A,{TERMS}\n"
# The developer guide's own example rows (unquoted: hand written, not Slicer's writer).
GUIDE_ROWS = (
    "1,left_kidney,185,102,83,255,SCT,123037004,Anatomical Structure,SCT,64033007,Kidney,"
    "SCT,7771000,Left,,,,,,\n"
    "6,right_kidney_mass,144,238,144,255,SCT,49755003,Morphologically Altered Structure,"
    "SCT,4147007,Mass,,,,SCT,64033007,Kidney,SCT,24028007,Right\n"
    "10,catheter_renal_artery,127,127,127,255,SCT,260787004,Physical object,SCT,19923001,"
    "Catheter,,,,SCT,2841007,Renal artery,,,\n")


def harvest(path: Path) -> tuple[float, list[tuple[str | None, dict[str, str]]], list[str]]:
    """Detect score, (name, codes) of each segment, and the record's warnings."""
    connector = SlicerColorTableConnector()
    score = connector.detect(probe_file(path))
    [record] = connector.harvest(probe_file(path))
    segments = [(s.name, s.terminology) for s in record.segments or []]
    return score, segments, record.warnings


def test_the_slicer_written_sample_gives_names_and_codes() -> None:
    score, segments, warnings_ = harvest(SAMPLE)
    assert score == 0.9 and warnings_ == []
    assert segments[0] == ("Left kidney", {"category": "SCT:123037004", "type": "SCT:64033007",
                                           "type_modifier": "SCT:7771000"})
    assert segments[1][1] == {"category": "SCT:49755003", "type": "SCT:4147007",
                              "region": "SCT:64033007", "region_modifier": "SCT:7771000"}
    assert [name for name, _ in segments] == ["Left kidney", "Tumor", "Renal artery"]


def test_the_guides_unquoted_example_and_a_tsv(tmp_path: Path) -> None:
    table = tmp_path / "labels.csv"
    table.write_text(HEADER + GUIDE_ROWS, encoding="utf-8")
    _, segments, _ = harvest(table)
    # Names keep underscores in CSV (only the .ctbl form writes spaces as underscores).
    assert [name for name, _ in segments] == ["left_kidney", "right_kidney_mass",
                                              "catheter_renal_artery"]
    assert segments[2][1] == {"category": "SCT:260787004", "type": "SCT:19923001",
                              "region": "SCT:2841007"}
    tsv = tmp_path / "labels.tsv"
    tsv.write_text((HEADER + GUIDE_ROWS).replace(",", "\t"), encoding="utf-8")
    assert harvest(tsv)[1] == segments


def test_names_only_columns_in_any_order_bom_crlf_and_quoted_commas(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_bytes(b'\xef\xbb\xbf"Name","Color_R","Color_G","Color_B","LabelValue"\r\n'
                      b'"Background",0,0,0,0\r\n"Kidney, right",1,2,3,2\r\n'
                      b'"Liver",4,5,6,1\r\n\r\n"",7,8,9,3\r\n')
    score, segments, warnings_ = harvest(table)
    assert score == 0.9 and warnings_ == []
    # sorted by label value, the background left out, an empty name kept as no name
    assert segments == [("Liver", {}), ("Kidney, right", {}), (None, {})]


def test_odd_code_text_is_not_kept_as_a_code(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text(HEADER + "1,x,1,2,3,255,SCT,123037004,A,SCT,Jane Doe 1970,K,,,,,,,,,\n",
                     encoding="utf-8")
    assert harvest(table)[1] == [("x", {"category": "SCT:123037004"})]


def test_bad_rows_are_left_out_or_refused_in_one_line_without_cell_text(
        tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text(HEADER + "PHITOKENQ,a,1,2,3,255\n-4,b,1,2,3,255\n,c,1,2,3,255\n"
                              "7,Kidney,1,2,3,255\n", encoding="utf-8")
    _, segments, warnings_ = harvest(table)
    assert segments == [("Kidney", {})]
    assert warnings_ == [f"color table line {n} has no valid label value; left out"
                         for n in (2, 3, 4)]
    table.write_text(HEADER + "1,a,PHITOKENQ,2,3,255\n", encoding="utf-8")
    with pytest.raises(CorruptFileError) as caught:
        SlicerColorTableConnector().harvest(probe_file(table))
    assert "line 2: Color_R is not a whole number" in str(caught.value)
    assert "PHITOKENQ" not in str(caught.value) and "\n" not in str(caught.value)
    table.write_text(HEADER, encoding="utf-8")
    assert harvest(table)[2] == ["color table has no labels besides the background"]
    table.write_text(HEADER + "".join(f"{i},n,1,2,3,255\n" for i in range(1, 10_003)),
                     encoding="utf-8")
    with pytest.raises(CorruptFileError, match="more than 10000 labels"):
        SlicerColorTableConnector().harvest(probe_file(table))


def test_other_csvs_are_left_alone(tmp_path: Path) -> None:
    connector = SlicerColorTableConnector()
    for log in sorted((SAMPLE_JOBS / "formats" / "joblog-csv").glob("*.csv")):
        assert connector.detect(probe_file(log)) == 0.0, log.name
    cases = {
        "no_colors.csv": "LabelValue,Name\n1,Kidney\n",  # Slicer's writer always writes colours
        "mentions.csv": "Name,Notes\nx,LabelValue Color_R Color_G Color_B\n",
        "second_line.csv": "Job,Printer\nLabelValue,Color_R,Color_G,Color_B\n",
        "long.csv": "x" * 9000 + ",LabelValue,Color_R,Color_G,Color_B\n1,2,3,4,5\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert connector.detect(probe_file(path)) == 0.0, name
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"LabelValue,Color_R,Color_G,Color_B\x00\n")
    assert connector.detect(probe_file(binary)) == 0.0


def test_the_harvester_gives_the_csv_to_the_color_table_connector() -> None:
    harvester = Harvester(PluginHost.load(None, entry_points=False), Rules.load(None))
    outcome = harvester.harvest_paths([SAMPLE], grouping="root")
    assert outcome.errors == []
    assert [(r.kind, r.source.connector) for r in outcome.records] == [
        ("segmentation", "slicer-ctbl")]
