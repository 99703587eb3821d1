"""KISSlicer G-code (1.x and 2.x).

The header starts ``; KISSlicer - FREE`` (or ``PRO``), the OS line, then ``; version 1.6.3
Release Linux64`` (1.x) or ``; version 2 a 2.0.6 Linux64`` (2.x); settings follow as ``; key =
value`` (``layer_thickness_mm``, ``max_layer_thickness_mm``), with one ``*** Material Settings
for Extruder N ***`` block per extruder. The end states ``;    Ext #1 = 1234.56 mm  (2.97
cm^3)`` per extruder (1.x writes ``Ext 1`` without the ``#``) and the build time in minutes.
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

_EXT = re.compile(r"^;\s+Ext\s*#?\s*(\d+)\s*=\s*([-\d.]+)\s*mm"
                  r"(?:\s*\(\s*([-\d.]+)\s*cm\^?3\s*\))?", re.MULTILINE)
_BUILD_TIME = re.compile(r"^;.*Build\s+Time:\s*([-\d.]+)\s*minutes", re.MULTILINE)
_VERSION = re.compile(r"^;\s*version\s+(?:\d+\s+[a-z]\s+)?(?P<version>\d[\w.]*)",
                      re.MULTILINE | re.IGNORECASE)
"""``; version 1.6.3 Release Linux64`` (1.x) or ``; version 2 a 2.0.6 Linux64`` (2.x: the
major, a release letter, then the full version), a few lines below the banner."""
_MATERIAL_BLOCK = re.compile(
    r"^;\s*\*{3}\s*Material Settings for Extruder\s+(\d+)\s*\*{3}(.*?)(?=^;\s*\*{3}|\Z)",
    re.MULTILINE | re.DOTALL)
_EXT_MAT_NAME = re.compile(r"^;\s*ext_(\d+)_mat_name\s*=\s*(.*?)\s*$", re.MULTILINE)


class KISSlicerConnector(BannerGcodeConnector):
    """G-code written by KISSlicer (1.x and 2.x)."""

    id = "kisslicer"
    label = "KISSlicer G-code"
    version = "1.1"
    banner = re.compile(r"^;\s*KISSlicer\b", re.MULTILINE)
    slicer_name = "KISSlicer"
    banner_lines = 10

    def read(self, text: GcodeText, warnings: list[str]) -> dict[str, Any]:
        """Settings from the head, per-extruder use and build time from the tail."""
        values = comment_values(text.head)
        both = text.both
        names = extruder_materials(text.head)
        # model_ext / support_ext are 1-based; 0 means "whichever extruder is current".
        model_ext, support_ext = number(values.get("model_ext")), number(values.get("support_ext"))
        slots = []
        for ext, mm, ml in _EXT.findall(both):
            name = names.get(int(ext)) or values.get("material_name") or None
            support = bool(support_ext) and support_ext == int(ext) and model_ext != support_ext
            slots.append(Slot(used_mm=number(mm), used_ml=number(ml) if ml else None,
                              name=name, type=name, role="support" if support else "model"))
        minutes = _BUILD_TIME.search(both)
        if not slots and minutes is None:
            warnings.append(TOTALS_MISSING)
        # max_layer_thickness_mm is 0 when variable layers are off: then layer_thickness_mm.
        layer = (number(values.get("max_layer_thickness_mm")) or
                 number(values.get("layer_thickness_mm")))
        seconds = number(minutes.group(1)) if minutes else None
        version = _VERSION.search(text.top)
        return {
            "slicer_version": version.group("version") if version else None,
            # KISSlicer writes fused-filament toolpaths only, whatever the material's name.
            "technology": "material_extrusion",
            **print_fields(slots, layer, None if seconds is None else seconds * 60, warnings),
        }


def extruder_materials(head: str) -> dict[int, str]:
    """Material name per extruder (1-based): the ``Material Settings for Extruder N`` blocks,
    else the printer's ``ext_N_mat_name`` lines."""
    names: dict[int, str] = {}
    for ext, block in _MATERIAL_BLOCK.findall(head):
        found = re.search(r"^;\s*material_name\s*=\s*(.*?)\s*$", block, re.MULTILINE)
        if found and found.group(1):
            names[int(ext)] = found.group(1)
    for ext, name in _EXT_MAT_NAME.findall(head):
        if name and name != "NULL":
            names.setdefault(int(ext), name)
    return names
