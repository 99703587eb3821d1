"""FlashForge FlashPrint: the binary .gx and FlashPrint's G-code, good and bad."""

from __future__ import annotations

import struct
from pathlib import Path

from printharvest.connectors.gcode.flashprint import FlashPrintConnector
from printharvest.connectors.probe import probe_file
from printharvest.exceptions import HarvestError
from printharvest.testing import harvest_sample
from tests.support.paths import SAMPLE_JOBS

FOLDER = SAMPLE_JOBS / "formats" / "flashprint"


def test_gx_header_totals_and_gcode_header() -> None:
    outcome = harvest_sample(FOLDER / "bracket.gx", SAMPLE_JOBS)
    assert outcome.errors == []
    [record] = outcome.records
    assert record.source.connector == "flashprint"
    assert record.print_time_s == 7840 and record.layer_height_mm == 0.18
    assert record.printer is not None and record.printer.model == "Adventurer 3 Series"
    [pla] = record.materials  # the left extruder used 0 mm: not a material
    assert (pla.type, pla.used_mm, pla.used_g) == ("PLA", 6212.0, 18.5276)
    assert record.technology == "material_extrusion"


def test_plain_gcode_dual_extruder_both_used() -> None:
    outcome = harvest_sample(FOLDER / "bracket_dual.gcode", SAMPLE_JOBS)
    [record] = outcome.records
    assert record.source.connector == "flashprint"
    assert [m.type for m in record.materials] == ["PLA", "PVA"]
    assert record.layer_height_mm == 0.2 and record.print_time_s is None


def test_plain_gcode_left_extruder_unused_is_not_a_material(tmp_path: Path) -> None:
    text = (FOLDER / "bracket_dual.gcode").read_text()
    path = tmp_path / "right_only.gcode"
    path.write_text(text.replace("M108 T1", "M108 T0"))
    [record] = harvest_sample(path, tmp_path).records
    assert [m.type for m in record.materials] == ["PLA"]


def test_bad_gx_is_one_line(tmp_path: Path) -> None:
    data = (FOLDER / "bracket.gx").read_bytes()
    cases = {
        "cut.gx": data[:40],
        "offsets.gx": data[:12] + struct.pack("<4i", 0, 58, 10**9, 10**9) + data[28:],
    }
    for name, payload in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        outcome = harvest_sample(path, tmp_path)
        assert outcome.records == []
        [error] = outcome.errors
        assert isinstance(error, HarvestError) and "\n" not in error.reason


def test_detect_leaves_other_slicers_alone() -> None:
    connector = FlashPrintConnector()
    prusa = SAMPLE_JOBS / "formats" / "prusaslicer" / "block_petg.gcode"
    assert connector.detect(probe_file(prusa)) == 0.0
    assert connector.detect(probe_file(FOLDER / "bracket.gx")) == 1.0
