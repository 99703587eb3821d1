"""Write the FlashPrint samples from the public format facts (FlashPrint is not available here).

Run from the repository root:
  uv run python sample_jobs/formats/flashprint/make_flashprint_samples.py

``bracket.gx``: the ``xgcode 1.0`` binary header (print time 2 h 10 min 40 s, 6,212 mm of
filament on the right extruder, none on the left, 0.18 mm layers as 180 µm, 2 shells,
60 mm/s, bed 50 °C, nozzle 210 °C), an 80 x 60 24-bit BMP thumbnail, then FlashPrint's
G-code header and a few moves. ``bracket_dual.gcode``: a job exported as plain G-code,
for a dual-extruder Creator Pro 2 with the left extruder printing PVA support.
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
THUMB_W, THUMB_H = 80, 60


def bmp_thumbnail() -> bytes:
    """An 80 x 60 24-bit BMP (14,454 bytes, rows bottom-up, each padded to 4 bytes)."""
    row = bytearray()
    for x in range(THUMB_W):
        row += bytes((x * 3 % 256, 128, 255 - x * 3 % 256))
    pixels = bytes(row) * THUMB_H  # 240-byte rows need no padding
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, THUMB_W, THUMB_H, 1, 24, 0, len(pixels),
                       2835, 2835, 0, 0)
    return header + info + pixels


GX_GCODE = """;machine_type: Adventurer 3 Series
;right_extruder_material: PLA
;right_extruder_material_density: 1.24
;filament_diameter0: 1.75
;right_extruder_temperature: 210
;layer_height: 0.18
;perimeter_shells: 2
;top_solid_layers: 4
;bottom_solid_layers: 3
;fill_density: 15%
;fill_pattern: hexagon
;base_print_speed: 60
;travel_speed: 80
;platform_temperature: 50
;start gcode
M118 X15.66 Y15.00 Z23.55 T0
M140 S50 T0
M104 S210 T0
M104 S0 T1
M107
G90
G28
M132 X Y Z A B
G1 Z50.000 F420
G161 X Y F3300
M7 T0
M6 T0
M651 S255
;layer_count: 128
M108 T0
;preExtrude:0.20
G1 Z.200 F420
;structure:pre-extrude
G1 X15.00 Y-15.00 F4800
G1 X15.00 Y15.00 E4.3504 F1200
;start main print
G1 X0 Y0 E18
;end gcode
M104 S0 T0
M140 S0 T0
G162 Z F1800
G28 X Y
M132 X Y A B
M652
G91
M18
"""

DUAL_GCODE = """;machine_type: Creator Pro 2
;right_extruder_material: PLA
;right_extruder_material_density: 1.24
;left_extruder_material: PVA
;left_extruder_material_density: 1.23
;filament_diameter0: 1.75
;filament_diameter1: 1.75
;right_extruder_temperature: 210
;left_extruder_temperature: 215
;layer_height: 0.2
;perimeter_shells: 2
;platform_temperature: 50
;start gcode
M118 X31.60 Y69.10 Z26.65 T0
M140 S50 T0
M104 S210 T0
M104 S215 T1
G90
G28
M132 X Y Z A B
M7 T0
M6 T0
M6 T1
;layer_count: 90
M108 T0
G1 Z.200 F420
G1 X10 Y10 E1.2 F1200
M108 T1
;structure:support
G1 X20 Y10 E0.6 F1200
M108 T0
;end gcode
M104 S0 T0
M104 S0 T1
M140 S0 T0
M18
"""


def write_gx(path: Path) -> None:
    """The binary header, the thumbnail, then the G-code."""
    thumbnail = bmp_thumbnail()
    gcode_at = 0x3A + len(thumbnail)
    header = struct.pack("<12s4i", b"xgcode 1.0\n\0", 0, 0x3A, gcode_at, gcode_at)
    header += struct.pack("<3ih", 7840, 6212, 0, 11)
    header += struct.pack("<8h", 180, 0, 2, 60, 50, 210, 0, 1)
    assert len(header) == 0x3A
    path.write_bytes(header + thumbnail + GX_GCODE.replace("\n", "\r\n").encode("ascii"))


def main() -> None:
    """Write both samples beside this script."""
    write_gx(HERE / "bracket.gx")
    (HERE / "bracket_dual.gcode").write_bytes(DUAL_GCODE.replace("\n", "\r\n").encode("ascii"))


if __name__ == "__main__":
    main()
