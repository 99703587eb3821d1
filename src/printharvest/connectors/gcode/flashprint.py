"""FlashForge FlashPrint: the binary ``.gx`` (``xgcode 1.0``) and FlashPrint's text G-code.

``.gx`` layout (little-endian, public format facts from the community's analysis of the
files FlashPrint writes for FlashForge printers):

* 0x00: ``xgcode 1.0\\n\\0`` (12 bytes), then four int32: 0, the thumbnail offset (58), the
  G-code offset and the G-code offset again;
* 0x1C: int32 print time (s), int32 filament used by the right extruder (mm), int32 by the
  left extruder (mm), int16 extruder mode;
* 0x2A: int16 layer height (µm), int16 reserved, int16 shells, int16 print speed (mm/s),
  int16 bed, right and left extruder temperatures (°C), int16 reserved;
* 0x3A: an 80 x 60 BMP thumbnail, then the G-code.

FlashPrint's G-code starts with ``;machine_type: Adventurer 3 Series`` and ``; key: value``
settings (``;right_extruder_material: PLA``, ``;left_extruder_material``,
``;layer_height: 0.18``) before ``;start gcode``. The plain ``.gcode`` it exports has the
same header, without the binary totals.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.gcode.text import (
    GCODE_PATTERNS,
    Slot,
    first_lines,
    grams_from_length,
    head_probe_text,
    ml_from_length,
    number,
    print_fields,
)
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Printer, Slicer

GX_MAGIC = b"xgcode 1.0\n"
GX_OFFSETS = struct.Struct("<12s4i")
GX_TOTALS = struct.Struct("<3ih")
GX_SETTINGS = struct.Struct("<8h")
GX_TOTALS_AT = 0x1C
GX_SETTINGS_AT = 0x2A
GX_HEADER_BYTES = 0x3A
UM_PER_MM = 1000.0
_SETTING = re.compile(r"^;\s*([a-z_][a-z0-9_]*)\s*:\s*(.*?)\s*$", re.MULTILINE)
_TOOL_LEFT = re.compile(r"^(?:M108\s+)?T1\b", re.MULTILINE)
_HEADER_LINES = 60


class FlashPrintConnector(FileConnector):
    """FlashForge FlashPrint output: ``.gx`` (binary header + G-code) and its G-code."""

    id = "flashprint"
    label = "FlashForge FlashPrint (.gx and G-code)"
    version = "1.0"
    patterns = ("*.gx", *GCODE_PATTERNS)

    def detect(self, probe: FileProbe) -> float:
        """Sure for the ``xgcode 1.0`` magic; high for a ``;machine_type:`` header with
        FlashPrint's extruder keys (slicers with a banner of their own score higher)."""
        if probe.head.startswith(GX_MAGIC):
            return 1.0
        top = first_lines(head_probe_text(probe), _HEADER_LINES)
        if re.search(r"^;machine_type:", top, re.MULTILINE) and re.search(
                r"^;(?:right|left)_extruder_material:", top, re.MULTILINE):
            return 0.9
        return 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record: the binary totals when present, then the G-code header."""
        warnings: list[str] = []
        totals: dict[str, float | None] = {}
        gcode = probe.head
        if probe.head.startswith(GX_MAGIC):
            totals, start = _gx_header(probe)
            gcode = probe.head[start:]
        text = "\n".join(gcode[:256 << 10].decode("utf-8", errors="replace").splitlines())
        values: dict[str, str] = {}
        for key, value in _SETTING.findall(first_lines(text, 200)):
            values.setdefault(key, value)
        if "machine_type" not in values and not totals:
            raise CorruptFileError(probe.display_path, "no FlashPrint ';machine_type:' header")
        slots = _slots(values, totals, text + "\n" + (probe.tail_text() if not
                                                      probe.is_whole else ""))
        layer = number(values.get("layer_height")) or totals.get("layer_mm")
        machine = values.get("machine_type") or None
        fields: dict[str, Any] = print_fields(slots, layer, totals.get("seconds"), warnings)
        return [self.new_record(
            probe, "print",
            slicer=Slicer(name="FlashPrint", version=None),
            printer=Printer(manufacturer="FlashForge", model=machine) if machine else None,
            # FlashPrint slices for FlashForge's fused-filament printers only.
            technology="material_extrusion",
            warnings=warnings,
            **fields,
        )]


def _gx_header(probe: FileProbe) -> tuple[dict[str, float | None], int]:
    """Totals from the binary header, and where the G-code starts."""
    head = probe.head
    if len(head) < GX_HEADER_BYTES:
        raise CorruptFileError(probe.display_path, "truncated .gx: header is cut off")
    _, _, bitmap_at, gcode_at, _ = GX_OFFSETS.unpack_from(head, 0)
    if not GX_HEADER_BYTES <= bitmap_at <= gcode_at <= probe.size:
        raise CorruptFileError(probe.display_path, ".gx offsets point outside the file")
    if gcode_at > len(head):
        raise CorruptFileError(probe.display_path, ".gx thumbnail is larger than expected")
    seconds, right_mm, left_mm, _ = GX_TOTALS.unpack_from(head, GX_TOTALS_AT)
    layer_um = GX_SETTINGS.unpack_from(head, GX_SETTINGS_AT)[0]
    totals: dict[str, float | None] = {
        "seconds": float(seconds) if seconds > 0 else None,
        "right_mm": float(right_mm) if right_mm >= 0 else None,
        "left_mm": float(left_mm) if left_mm >= 0 else None,
        "layer_mm": layer_um / UM_PER_MM if layer_um > 0 else None,
    }
    return totals, gcode_at


def _slots(values: dict[str, str], totals: dict[str, float | None], text: str) -> list[Slot]:
    """Right extruder (T0) then left (T1); the left only when it is used."""
    def slot(side: str, index: int) -> Slot:
        name = values.get(f"{side}_extruder_material") or None
        length = totals.get(f"{side}_mm")
        diameter = number(values.get(f"filament_diameter{index}"))
        density = number(values.get(f"{side}_extruder_material_density"))
        return Slot(used_mm=length, used_ml=ml_from_length(length, diameter),
                    used_g=grams_from_length(length, diameter, density), name=name, type=name)

    slots = [slot("right", 0)]
    left_used = (totals.get("left_mm") or 0) > 0 if totals else bool(
        values.get("left_extruder_material") and _TOOL_LEFT.search(text))
    if left_used:
        slots.append(slot("left", 1))
    return slots
