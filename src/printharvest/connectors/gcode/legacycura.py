"""Legacy Cura G-code (Cura 15.x and older, before CuraEngine 2).

Its start G-code template writes ``;Sliced at: ...``, ``;Basic settings: Layer height: 0.1
Walls: 0.8 Fill: 10``, ``;Print time: #P_TIME#`` and ``;Filament used: #F_AMNT#m
#F_WGHT#g``. Cura replaces the ``#...#`` placeholders when it saves the file; a file saved
another way (e.g. by a print server) keeps them, and an unreplaced placeholder means unknown.
"""

from __future__ import annotations

import re
from typing import Any

from printharvest.connectors.gcode.text import (
    BannerGcodeConnector,
    GcodeText,
    Slot,
    has_placeholder,
    number,
    parse_word_duration,
    print_fields,
)

_LINE = re.compile(r"^;\s*(Sliced at|Basic settings|Print time|Filament used)\s*:\s*(.*?)\s*$",
                   re.MULTILINE)


class LegacyCuraConnector(BannerGcodeConnector):
    """G-code written by Cura 15.x and older."""

    id = "legacycura"
    label = "Legacy Cura (15.x) G-code"
    version = "1.0"
    banner = re.compile(r"^;Sliced at:", re.MULTILINE)
    slicer_name = "Cura"
    banner_lines = 40
    score = 0.96  # above the Cura connector: a legacy file may also name Cura_SteamEngine

    def read(self, text: GcodeText, warnings: list[str]) -> dict[str, Any]:
        """The four header lines; placeholders mean unknown."""
        lines = {k: v for k, v in _LINE.findall(text.top)}
        if any(has_placeholder(v) for v in lines.values()):
            warnings.append("header placeholders left unreplaced (e.g. #P_TIME#): "
                            "estimates unknown")
        settings = lines.get("Basic settings", "")
        layer = re.search(r"Layer height:\s*([\d.]+)", settings)
        used = lines.get("Filament used", "")
        metres = re.search(r"([\d.]+)\s*m\b", used)
        grams = re.search(r"([\d.]+)\s*g\b", used)
        length_m = number(metres.group(1)) if metres else None
        slots = []
        if metres or grams:
            slots.append(Slot(used_mm=None if length_m is None else length_m * 1000.0,
                              used_g=number(grams.group(1)) if grams else None))
        return print_fields(slots, number(layer.group(1)) if layer else None,
                            _seconds(lines.get("Print time", "")), warnings)


def _seconds(text: str) -> float | None:
    """``1:05`` (h:mm), ``1:05:30``, ``1 hours 5 minutes`` or plain seconds."""
    text = text.strip()
    if not text or has_placeholder(text):
        return None
    words = parse_word_duration(text)  # clocks too: the one parser in connectors/units.py
    if words is not None:
        return float(words)
    return number(text)
