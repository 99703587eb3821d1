"""ideaMaker G-code (Raise3D).

The first line is ``;Sliced by ideaMaker VER, DATE``. The header gives per-extruder
``;Filament Diameter #n: 1.750`` and ``;Filament Density #n: 1240.00`` (kg/m^3, not g/cm^3);
the end gives ``;Print Time: 744`` (seconds) and ``;Material#n Used: 422.7`` (mm of filament).
Newer versions name the filament (``;Filament Type #n:`` / ``;Filament Name #n:``).
"""

from __future__ import annotations

import re
from typing import Any

from printharvest.connectors.gcode.text import (
    TOTALS_MISSING,
    BannerGcodeConnector,
    GcodeText,
    Slot,
    grams_from_length,
    ml_from_length,
    named_printer,
    number,
    print_fields,
)

_PER_EXTRUDER = re.compile(r"^;\s*([A-Za-z ]+?)\s*#\s*(\d+)\s*:\s*(.*?)\s*$", re.MULTILINE)
_USED = re.compile(r"^;\s*Material\s*#\s*(\d+)\s+Used:\s*([-\d.eE+]+)", re.MULTILINE)
_LAYER_ONE = re.compile(r"^;LAYER:1\s*$(?:\s*^;Z:.*$)?\s*^;HEIGHT:\s*([\d.]+)", re.MULTILINE)
_KG_PER_M3_PER_G_PER_CM3 = 1000.0


class IdeaMakerConnector(BannerGcodeConnector):
    """G-code written by ideaMaker."""

    id = "ideamaker"
    label = "ideaMaker G-code"
    version = "1.0"
    banner = re.compile(r"^;\s*Sliced by ideaMaker\s+(?P<version>[^,\s]+)", re.MULTILINE)
    slicer_name = "ideaMaker"
    banner_lines = 5

    def read(self, text: GcodeText, warnings: list[str]) -> dict[str, Any]:
        """Per-extruder header values and the end-of-file totals."""
        per: dict[tuple[str, int], str] = {}
        for key, index, value in _PER_EXTRUDER.findall(text.head):
            per.setdefault((key.strip().lower(), int(index)), value)
        both = text.both
        used = {int(i): number(v) for i, v in _USED.findall(both)}
        time_match = re.search(r"^;\s*Print Time:\s*([-\d.]+)", both, re.MULTILINE)
        if not used and time_match is None:
            warnings.append(TOTALS_MISSING)
        slots: list[Slot] = []
        for index in sorted(used):
            length = used[index]
            diameter = number(per.get(("filament diameter", index)))
            density_kg_m3 = number(per.get(("filament density", index)))
            density = None if density_kg_m3 is None else density_kg_m3 / _KG_PER_M3_PER_G_PER_CM3
            kind = per.get(("filament type", index)) or None
            slots.append(Slot(used_mm=length, used_ml=ml_from_length(length, diameter),
                              used_g=grams_from_length(length, diameter, density),
                              name=per.get(("filament name", index)) or kind, type=kind))
        layer = _LAYER_ONE.search(text.head)
        machine = re.search(r"^;\s*Machine Name:\s*(.+?)\s*$", text.head, re.MULTILINE)
        return {"printer": named_printer(machine.group(1) if machine else None),
                **print_fields(slots, number(layer.group(1)) if layer else None,
                               number(time_match.group(1)) if time_match else None, warnings)}
