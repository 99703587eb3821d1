"""IceSL G-code.

The header holds ``; <IceSL VER>`` and settings as ``; key :   value`` lines, among them
``z_layer_height_mm``, ``filament_used_mm``, ``filament_used_g``, ``filament_name``,
``filament_type`` and ``estimated_print_time_s``.
"""

from __future__ import annotations

import re
from typing import Any

from printharvest.connectors.gcode.text import (
    BannerGcodeConnector,
    GcodeText,
    Slot,
    number,
    print_fields,
)

_SETTING = re.compile(r"^;\s*([a-z][a-z0-9_]*)\s*:\s*(.*?)\s*$", re.MULTILINE)


class IceSLConnector(BannerGcodeConnector):
    """G-code written by IceSL."""

    id = "icesl"
    label = "IceSL G-code"
    version = "1.0"
    banner = re.compile(r"<IceSL\s*(?P<version>\d[^>\s]*)?[^>]*>")
    slicer_name = "IceSL"
    # A printer profile's header.lua may write a block of start G-code (homing, heating,
    # purge) before the banner and settings: look well below the top.
    banner_lines = 200

    def read(self, text: GcodeText, warnings: list[str]) -> dict[str, Any]:
        """The ``; key : value`` settings block at the top."""
        values: dict[str, str] = {}
        for key, value in _SETTING.findall(text.head):
            values.setdefault(key, value)
        kind = values.get("filament_type") or None
        slot = Slot(used_mm=number(values.get("filament_used_mm")),
                    used_g=number(values.get("filament_used_g")),
                    name=values.get("filament_name") or kind, type=kind)
        slots = [slot] if slot.used_mm is not None or slot.used_g is not None else []
        return print_fields(slots, number(values.get("z_layer_height_mm")),
                            number(values.get("estimated_print_time_s")), warnings)
