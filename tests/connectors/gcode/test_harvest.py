"""G-code family harvest: placeholders, truncation, CR/CRLF, absurd values, unused slots,
big files read head and tail only."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from printharvest.connectors.gcode.bambustudio import BambuStudioConnector
from printharvest.connectors.gcode.bgcode import BgcodeConnector
from printharvest.connectors.gcode.cura import CuraConnector
from printharvest.connectors.gcode.gcode3mf import SlicedThreeMfConnector
from printharvest.connectors.gcode.ideamaker import IdeaMakerConnector
from printharvest.connectors.gcode.legacycura import LegacyCuraConnector
from printharvest.connectors.gcode.orcaslicer import OrcaSlicerConnector
from printharvest.connectors.gcode.prusaslicer import PrusaSlicerConnector
from printharvest.connectors.gcode.simplify3d import Simplify3DConnector
from printharvest.connectors.gcode.ufp import UfpConnector
from printharvest.connectors.probe import WINDOW, probe_file
from printharvest.exceptions import CorruptFileError, UnsupportedFileError
from printharvest.models import HarvestRecord
from tests.support.paths import SAMPLE_JOBS

FORMATS = SAMPLE_JOBS / "formats"


def harvest_one(connector: object, path: Path) -> HarvestRecord:
    records = connector.harvest(probe_file(path))  # type: ignore[attr-defined]
    assert len(records) == 1
    return records[0]  # type: ignore[no-any-return]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# -- Cura ------------------------------------------------------------------------------


def test_cura_marlin_header(tmp_path: Path) -> None:
    path = write(tmp_path, "m.gcode", ";FLAVOR:Marlin\r\n;TIME:956\r\n;Filament used: 1.2m, 0m\r\n"
                 ";Layer height: 0.2\r\n;Generated with Cura_SteamEngine 5.7.1\r\nG1 X1\r\n")
    record = harvest_one(CuraConnector(), path)
    assert record.slicer is not None and record.slicer.version == "5.7.1"
    assert record.print_time_s == 956 and record.layer_height_mm == 0.2
    assert [m.used_mm for m in record.materials] == [1200.0]  # the unused slot is dropped


def test_cura_start_gcode_filament_comments(tmp_path: Path) -> None:
    path = write(tmp_path, "f.gcode", ";FLAVOR:Marlin\n;TIME:600\n;Filament used: 1.5m\n"
                 ";Layer height: 0.28\n;Generated with Cura_SteamEngine 5.2.1\n"
                 "; Filament type = PETG\n; Filament name = Generic PETG\n"
                 "; Filament weight = [4.4]\nG28\n")
    [material] = harvest_one(CuraConnector(), path).materials
    assert (material.type, material.name, material.used_g, material.used_mm) == (
        "PETG", "Generic PETG", 4.4, 1500.0)


def test_curaengine_placeholder_header_means_unknown(tmp_path: Path) -> None:
    path = write(tmp_path, "p.gcode", ";FLAVOR:Marlin\n;TIME:6666\n;Filament used: 0m\n"
                 ";Layer height: 0.2\n;MINX:2.14748e+06\n;Generated with Cura_SteamEngine "
                 "4.13.0\n")
    record = harvest_one(CuraConnector(), path)
    assert record.print_time_s is None and record.materials == []
    assert any("placeholder" in w for w in record.warnings)


def test_cura_griffin_volume_is_mm3_and_guid_names_the_material() -> None:
    record = harvest_one(CuraConnector(), FORMATS / "cura/block_griffin.gcode")
    [material] = record.materials
    text = (FORMATS / "cura/block_griffin.gcode").read_text()
    volume = float(text.split("MATERIAL.VOLUME_USED:")[1].split()[0])
    assert material.used_ml == pytest.approx(volume / 1000)
    assert material.type == "PLA" and material.code == "506c9f0d-e3aa-4bd4-b2d2-23e2425b1aa9"
    assert record.printer is not None and record.printer.model == "Ultimaker S5"


def test_ultigcode(tmp_path: Path) -> None:
    path = write(tmp_path, "u.gcode", ";FLAVOR:UltiGCode\n;TIME:1200\n;MATERIAL:2500\n"
                 ";MATERIAL2:0\n;NOZZLE_DIAMETER:0.4\n;Generated with Cura_SteamEngine 15.06\n")
    record = harvest_one(CuraConnector(), path)
    assert record.print_time_s == 1200
    assert [m.used_ml for m in record.materials] == [2.5]


def test_ultigcode_engine_placeholders_are_unknown(tmp_path: Path) -> None:
    path = write(tmp_path, "u.gcode", ";FLAVOR:UltiGCode\n;TIME:6666\n;MATERIAL:6666\n"
                 ";MATERIAL2:0\n;MINX:2.14748e+06\n;Generated with Cura_SteamEngine 4.13.0\n")
    record = harvest_one(CuraConnector(), path)
    assert record.print_time_s is None and record.materials == []


def test_legacy_cura_placeholders_are_unknown() -> None:
    record = harvest_one(LegacyCuraConnector(), FORMATS / "legacycura/block_placeholders.gcode")
    assert record.print_time_s is None and record.materials == []
    assert record.layer_height_mm == 0.1
    assert any("#P_TIME#" in w for w in record.warnings)


# -- Slic3r family, Orca, Bambu ----------------------------------------------------------


def test_arcwelder_banner_above_the_generated_by_line(tmp_path: Path) -> None:
    banner = "".join(f"; ArcWelder line {i}\n" for i in range(8))
    path = write(tmp_path, "a.gcode", "; Postprocessed by [ArcWelder](https://x)\n" + banner +
                 "\n; generated by SuperSlicer 2.3.56 on 2021-09-03 at 16:50:39 UTC\nG1 X1\n"
                 "; filament used [g] = 0.67\n; estimated printing time (normal mode) = 7m 19s\n"
                 "; filament_type = ABS\n")
    record = harvest_one(PrusaSlicerConnector(), path)
    assert record.slicer is not None and record.slicer.name == "SuperSlicer"
    assert record.print_time_s == 439 and record.materials[0].type == "ABS"


def test_big_prusaslicer_file_reads_stats_from_the_tail(tmp_path: Path) -> None:
    body = "G1 X1 Y1 E0.1\n" * (3 * WINDOW // 14)
    path = write(tmp_path, "big.gcode", "; generated by PrusaSlicer 2.6.0 on 2024\n" + body +
                 "; filament used [g] = 12.5\n; estimated printing time (normal mode) = 2h\n"
                 "; filament_type = PLA\n; layer_height = 0.2\n")
    probe = probe_file(path)
    assert not probe.is_whole
    [record] = PrusaSlicerConnector().harvest(probe)
    assert record.print_time_s == 7200 and record.materials[0].used_g == 12.5


def test_truncated_prusaslicer_file_warns(tmp_path: Path) -> None:
    body = "G1 X1 Y1 E0.1\n" * (3 * WINDOW // 14)
    path = write(tmp_path, "cut.gcode", "; generated by PrusaSlicer 2.6.0 on 2024\n" + body)
    record = harvest_one(PrusaSlicerConnector(), path)
    assert record.print_time_s is None and record.materials == []
    assert any("truncated" in w for w in record.warnings)


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_line_ends_never_leak_into_values(tmp_path: Path, line_end: str) -> None:
    lines = ["; HEADER_BLOCK_START", "; BambuStudio 01.09.07.52",
             "; model printing time: 41m 2s; total estimated time: 45m 18s",
             "; total filament weight [g] : 7.41", "; HEADER_BLOCK_END",
             "; filament_type = PLA", "; printer_model = Bambu Lab X1 Carbon",
             "; layer_height = 0.2"]
    path = write(tmp_path, "b.gcode", line_end.join(lines) + line_end)
    record = harvest_one(BambuStudioConnector(), path)
    assert record.print_time_s == 2718
    assert record.printer is not None and record.printer.model == "Bambu Lab X1 Carbon"
    assert [(m.type, m.used_g) for m in record.materials] == [("PLA", 7.41)]


def test_bambu_total_time_and_mislabelled_volume() -> None:
    record = harvest_one(BambuStudioConnector(), FORMATS / "bambustudio/block_bambu.gcode")
    assert record.print_time_s == 45 * 60 + 18  # total, not the 41m 2s model time
    # the header's "5917.42 [cm^3]" is really mm^3
    assert record.materials[0].used_ml == pytest.approx(5.91742, abs=1e-4)


def test_support_extruder_gives_the_support_role(tmp_path: Path) -> None:
    path = write(tmp_path, "s.gcode", "; generated by PrusaSlicer 2.6.0 on 2024\nG1 X1\n"
                 "; filament used [g] = 1.0, 0.5, 0\n; filament_type = PETG;PVA;PLA\n"
                 "; support_material = 1\n; support_material_extruder = 2\n"
                 "; support_material_interface_extruder = 2\n; perimeter_extruder = 1\n"
                 "; infill_extruder = 1\n; solid_infill_extruder = 1\n")
    record = harvest_one(PrusaSlicerConnector(), path)
    assert [(m.type, m.role) for m in record.materials] == [("PETG", "model"), ("PVA", "support")]


def test_support_extruder_also_printing_the_model_stays_model(tmp_path: Path) -> None:
    path = write(tmp_path, "s.gcode", "; generated by PrusaSlicer 2.6.0 on 2024\nG1 X1\n"
                 "; filament used [g] = 1.0, 0.5\n; filament_type = PETG;PLA\n"
                 "; support_material = 1\n; support_material_extruder = 2\n"
                 "; perimeter_extruder = 1\n; infill_extruder = 2\n")
    record = harvest_one(PrusaSlicerConnector(), path)
    assert [m.role for m in record.materials] == ["model", "model"]


def test_orca_reads_the_top_and_drops_unused_slots() -> None:
    record = harvest_one(OrcaSlicerConnector(), FORMATS / "orcaslicer/block_orca.gcode")
    assert [m.type for m in record.materials] == ["PLA"]
    assert record.print_time_s == 1296


@pytest.mark.parametrize("stats, warning", [
    ("; filament used [g] = 1000000000000\n; estimated printing time (normal mode) = 1h\n",
     "filament weight"),
    ("; filament used [g] = 2.0\n; estimated printing time (normal mode) = 9999d\n",
     "print time"),
])
def test_absurd_values_become_null_with_a_warning(tmp_path: Path, stats: str,
                                                  warning: str) -> None:
    path = write(tmp_path, "x.gcode", "; generated by PrusaSlicer 2.6.0 on 2024\nG1 X1\n" + stats)
    record = harvest_one(PrusaSlicerConnector(), path)
    assert any(warning in w and "not plausible" in w for w in record.warnings)
    if warning == "print time":
        assert record.print_time_s is None
    else:
        assert record.materials[0].used_g is None


def test_negative_values_become_null(tmp_path: Path) -> None:
    path = write(tmp_path, "n.gcode", "; G-Code generated by Simplify3D(R) Version 4.1.2\n"
                 ";   layerHeight,-0.2\nG1 X1\n; Build Summary\n;   Build time: 0 hours 5 minutes\n"
                 ";   Filament length: -100 mm (0.1 m)\n;   Plastic weight: 3 g (0.01 lb)\n")
    record = harvest_one(Simplify3DConnector(), path)
    assert record.layer_height_mm is None and record.print_time_s == 300
    assert record.materials[0].used_mm is None and record.materials[0].used_g == 3.0
    assert len([w for w in record.warnings if "not plausible" in w]) == 2


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r"])
def test_text_families_read_crlf_and_cr_only_files(tmp_path: Path, line_end: bytes) -> None:
    data = (FORMATS / "ideamaker/block_crlf.gcode").read_bytes().replace(b"\r\n", line_end)
    record = harvest_one(IdeaMakerConnector(), write(tmp_path, "i.gcode", data))
    assert record.print_time_s == 1296 and record.layer_height_mm == 0.2
    assert [m.type for m in record.materials] == ["PLA"]
    assert all("\r" not in (m.name or "") for m in record.materials)


def test_legacy_cura_filled_header_is_hours_and_minutes() -> None:
    record = harvest_one(LegacyCuraConnector(), FORMATS / "legacycura/block_filled.gcode")
    assert record.print_time_s == 3900
    assert [(m.used_mm, m.used_g) for m in record.materials] == [(1010.0, 3.0)]


def test_ideamaker_density_is_kg_per_m3() -> None:
    record = harvest_one(IdeaMakerConnector(), FORMATS / "ideamaker/block_crlf.gcode")
    [material] = record.materials  # extruder 2 used 0.0 mm
    assert material.type == "PLA"
    assert material.used_g == pytest.approx(3.1415926 / 4 * 1.75**2 * 1011.5 * 1.24 / 1000,
                                            rel=1e-4)


# -- binary G-code ---------------------------------------------------------------------


def block(kind: int, data: bytes, compression: int = 0, crc_ok: bool = True) -> bytes:
    stored = zlib.compress(data) if compression == 1 else data
    head = struct.pack("<HHI", kind, compression, len(data))
    if compression:
        head += struct.pack("<I", len(stored))
    body = head + b"\0\0" + stored
    crc = zlib.crc32(body) ^ (0 if crc_ok else 1)
    return body + struct.pack("<I", crc)


def bgcode(*blocks: bytes) -> bytes:
    return struct.pack("<4sIH", b"GCDE", 1, 1) + b"".join(blocks)


PRINT_META = b"filament used [g]=2.5\nestimated printing time (normal mode)=1h 2m\n"


def test_bgcode_plain_and_deflate(tmp_path: Path) -> None:
    path = write(tmp_path, "a.bgcode", bgcode(
        block(0, b"Producer=PrusaSlicer 2.8.0\n"), block(3, b"printer_model=MK4S\r\n"),
        block(4, PRINT_META, 1), block(1, b"G1 X1\n")))
    record = harvest_one(BgcodeConnector(), path)
    assert record.slicer is not None and record.slicer.version == "2.8.0"
    assert record.printer is not None and record.printer.model == "MK4S"
    assert record.print_time_s == 3720 and record.materials[0].used_g == 2.5


def test_bgcode_heatshrink_metadata_is_unsupported(tmp_path: Path) -> None:
    heatshrunk = struct.pack("<HHII", 4, 3, 10, 4) + b"\0\0" + b"abcd"
    heatshrunk += struct.pack("<I", zlib.crc32(heatshrunk))
    path = write(tmp_path, "h.bgcode", bgcode(block(0, b"Producer=PrusaSlicer 2.8.0\n"),
                                              heatshrunk, block(1, b"G1\n")))
    with pytest.raises(UnsupportedFileError, match="Heatshrink"):
        BgcodeConnector().harvest(probe_file(path))


def test_bgcode_checksum_and_truncation(tmp_path: Path) -> None:
    bad = write(tmp_path, "crc.bgcode", bgcode(block(4, PRINT_META, 0, crc_ok=False)))
    with pytest.raises(CorruptFileError, match="checksum"):
        BgcodeConnector().harvest(probe_file(bad))
    whole = bgcode(block(0, b"Producer=PrusaSlicer 2.8.0\n"), block(4, PRINT_META, 1))
    cut = write(tmp_path, "cut.bgcode", whole[:-9])
    with pytest.raises(CorruptFileError, match="past the end"):
        BgcodeConnector().harvest(probe_file(cut))


# -- zip containers --------------------------------------------------------------------


def test_ufp_members_start_with_a_slash_and_profiles_name_materials() -> None:
    record = harvest_one(UfpConnector(), FORMATS / "ufp/block.ufp")
    [material] = record.materials
    assert material.name == "Generic PLA" and material.type == "PLA"
    assert material.used_g == pytest.approx((material.used_ml or 0) * 1.24, rel=1e-3)


def test_ufp_without_gcode_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "empty.ufp"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("/Materials/x.xml.fdm_material", "<x/>")
    with pytest.raises(CorruptFileError):
        UfpConnector().harvest(probe_file(path))


def test_gcode_3mf_plate() -> None:
    record = harvest_one(SlicedThreeMfConnector(), FORMATS / "gcode3mf/plate.gcode.3mf")
    assert record.part_count == 3 and record.print_time_s == 2718
    assert [(m.type, m.used_g, m.used_mm) for m in record.materials] == [("PLA", 7.41, 2460.0)]
    assert record.printer is not None and record.printer.model == "Bambu Lab P1S"


def test_gcode_3mf_unused_filament_and_broken_xml(tmp_path: Path) -> None:
    path = tmp_path / "two.gcode.3mf"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Metadata/slice_info.config",
                    '<config><plate><metadata key="prediction" value="60"/>'
                    '<object name="a"/><filament id="1" type="PLA" used_m="1" used_g="3"/>'
                    '<filament id="2" type="PVA" used_m="0" used_g="0"/></plate></config>')
        zf.writestr("Metadata/plate_1.gcode", "; generated by OrcaSlicer 2.1.1 on x\n")
    record = harvest_one(SlicedThreeMfConnector(), path)
    assert [m.type for m in record.materials] == ["PLA"]
    assert record.slicer is not None and record.slicer.name == "OrcaSlicer"
    broken = tmp_path / "broken.gcode.3mf"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("Metadata/slice_info.config", "<config><plate>")
        zf.writestr("Metadata/plate_1.gcode", "")
    with pytest.raises(CorruptFileError, match="not XML"):
        SlicedThreeMfConnector().harvest(probe_file(broken))


def test_gcode_3mf_one_record_per_plate(tmp_path: Path) -> None:
    path = tmp_path / "plates.gcode.3mf"
    plate = ('<plate><metadata key="index" value="{n}"/><metadata key="prediction" '
             'value="{t}"/>{objects}<filament id="1" type="PETG" used_m="1" used_g="{g}"/>'
             '</plate>')
    info = "<config>" + plate.format(n=1, t=60, g=3, objects='<object name="a"/>') + \
        plate.format(n=2, t=-5, g=1e12, objects='<object name="b"/><object name="c"/>') + \
        "</config>"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Metadata/slice_info.config", info)
        zf.writestr("Metadata/plate_1.gcode", "; HEADER_BLOCK_START\n; BambuStudio 01.10.00.00\n")
        zf.writestr("Metadata/plate_2.gcode", "; HEADER_BLOCK_START\n; BambuStudio 01.10.00.00\n")
    first, second = SlicedThreeMfConnector().harvest(probe_file(path))
    assert (first.source.index, second.source.index) == (0, 1)
    assert (first.part_count, second.part_count) == (1, 2)
    assert first.print_time_s == 60 and first.materials[0].used_g == 3.0
    assert second.print_time_s is None and second.materials[0].used_g is None
    assert len([w for w in second.warnings if "not plausible" in w]) == 2
