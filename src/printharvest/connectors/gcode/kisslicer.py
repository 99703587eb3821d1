"""KISSlicer G-code.

The header starts ``; KISSlicer - FREE`` (or ``PRO``) with ``; version X`` below it and the
settings as ``; key = value`` (``max_layer_thickness_mm``, ``layer_thickness_mm``); the end
states ``;    Ext #1 = 1234.56 mm  (2.97 cm^3)`` per extruder and the estimated build time
in minutes.
"""

from __future__ import annotations

import re
from typing import Any

from printharvest.connectors.gcode.text import (
    TOTALS_MISSING,
    BannerGcodeConnector,
    GcodeText,
    Slot,
    comment_values,
    number,
    print_fields,
)

_EXT = re.compile(r"^;\s+Ext\s*#(\d+)\s*=\s*([-\d.]+)\s*mm(?:\s*\(\s*([-\d.]+)\s*cm\^?3\s*\))?",
                  re.MULTILINE)
_BUILD_TIME = re.compile(r"^;.*Build\s+Time:\s*([-\d.]+)\s*minutes", re.MULTILINE)


class KISSlicerConnector(BannerGcodeConnector):
    """G-code written by KISSlicer."""

    id = "kisslicer"
    label = "KISSlicer G-code"
    version = "1.0"
    banner = re.compile(r"^;\s*KISSlicer\b.*(?:\n;\s*version\s+(?P<version>\S+))?",
                        re.MULTILINE)
    slicer_name = "KISSlicer"
    banner_lines = 10

    def read(self, text: GcodeText, warnings: list[str]) -> dict[str, Any]:
        """Settings from the head, per-extruder use and build time from the tail."""
        values = comment_values(text.head)
        both = text.both
        kind = values.get("material_name") or None
        slots = [Slot(used_mm=number(mm), used_ml=number(ml) if ml else None, name=kind,
                      type=kind) for _, mm, ml in _EXT.findall(both)]
        minutes = _BUILD_TIME.search(both)
        if not slots and minutes is None:
            warnings.append(TOTALS_MISSING)
        layer = number(values.get("max_layer_thickness_mm") or values.get("layer_thickness_mm"))
        seconds = number(minutes.group(1)) if minutes else None
        return print_fields(slots, layer, None if seconds is None else seconds * 60, warnings)
