"""Bambu Studio G-code.

The header block starts with ``; BambuStudio VER``; for Bambu printers it says ``; model
printing time: ...; total estimated time: ...`` (the total, with filament changes and
calibration, is the print time) and newer versions add ``; total filament length [mm]``,
``; total filament volume [cm^3]`` (really mm^3, despite the label) and ``; total filament
weight [g]``. The config block (``; key = value``) names the printer and the filaments.
"""

from __future__ import annotations

import re

from printharvest.connectors.base import FileConnector
from printharvest.connectors.gcode.text import (
    GCODE_PATTERNS,
    Slot,
    at,
    fallback,
    first_lines,
    head_and_tail_values,
    head_probe_text,
    head_text,
    header_block_values,
    named_printer,
    number,
    parse_duration,
    print_fields,
    slic3r_slots,
    split_list,
)
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Slicer

_BANNER = re.compile(r"^;\s*BambuStudio\s+(\S+)", re.MULTILINE)
_HEADER_LINES = 40


class BambuStudioConnector(FileConnector):
    """G-code written by Bambu Studio."""

    id = "bambustudio"
    label = "Bambu Studio G-code"
    version = "1.0"
    patterns = GCODE_PATTERNS

    def detect(self, probe: FileProbe) -> float:
        """Sure when the ``; BambuStudio VER`` banner is in the first lines."""
        return 0.95 if _BANNER.search(first_lines(head_probe_text(probe), _HEADER_LINES)) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record from the header block and the config block."""
        head = head_text(probe)
        banner = _BANNER.search(first_lines(head, _HEADER_LINES))
        if banner is None:
            raise CorruptFileError(probe.display_path, "no '; BambuStudio' banner")
        header = header_block_values(head)
        values = head_and_tail_values(head, probe)
        warnings: list[str] = []
        slots = bambu_slots(header, values, warnings)
        return [fallback(self.new_record(
            probe, "print",
            slicer=Slicer(name="BambuStudio", version=banner.group(1)),
            printer=named_printer(values.get("printer_model")),
            warnings=warnings,
            **print_fields(slots, number(values.get("layer_height")),
                           bambu_seconds(header, values), warnings),
        ))]


def bambu_seconds(header: dict[str, str], values: dict[str, str]) -> float | None:
    """The total estimated time; the model-only time is not the print time."""
    for text in (header.get("total estimated time"),
                 values.get("estimated printing time (normal mode)"),
                 header.get("model printing time")):
        if text:
            seconds = parse_duration(text)
            if seconds is not None:
                return float(seconds)
    return None


def bambu_slots(
    header: dict[str, str], values: dict[str, str], warnings: list[str]
) -> list[Slot]:
    """Per-filament use when stated, else the header totals as one material."""
    slots = slic3r_slots(values)
    if any(s.used_mm is not None or s.used_g is not None for s in slots):
        return slots
    length = number(header.get("total filament length [mm]"))
    volume_mm3 = number(header.get("total filament volume [cm^3]"))  # mislabelled mm^3
    weight = number(header.get("total filament weight [g]"))
    if length is None and volume_mm3 is None and weight is None:
        return slots
    all_types = split_list(values.get("filament_type"), ";")
    all_names = split_list(values.get("filament_settings_id"), ";")
    used = used_filaments(header)
    if used:
        # 02.x headers say which slots the plate used ("; filament: 1,3"): their types are
        # the print's materials, whatever else is loaded in the AMS.
        picked = [(at(all_types, i - 1) or None, at(all_names, i - 1) or None) for i in used]
        if len(picked) > 1:
            warnings.append(f"{len(picked)} filaments used and only their totals stated:"
                            " amounts not split per filament")
            return [Slot(type=kind, name=name or kind) for kind, name in picked]
        kind, name = picked[0]
    else:
        types = {t for t in all_types if t}
        names = {n for n in all_names if n}
        kind = types.pop() if len(types) == 1 else None
        name = names.pop() if len(names) == 1 else None
        if kind is None and len(types) > 1:
            warnings.append("several filaments loaded and only totals stated: type left unknown")
    return [Slot(used_mm=length, used_ml=None if volume_mm3 is None else volume_mm3 / 1000.0,
                 used_g=weight, name=name, type=kind)]


def used_filaments(header: dict[str, str]) -> list[int]:
    """The 1-based filament slots a Bambu Studio 02.x header lists as used (``; filament:
    1,3``), in order; empty when the header does not say."""
    found: list[int] = []
    for piece in split_list(header.get("filament"), ","):
        value = number(piece)
        if value is not None and value >= 1 and int(value) not in found:
            found.append(int(value))
    return found
