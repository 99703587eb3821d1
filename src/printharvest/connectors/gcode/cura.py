"""Cura G-code (CuraEngine 2.x and later) in its three header flavours.

* Marlin/RepRap and most others: ``;FLAVOR:Marlin``, ``;TIME:956``, ``;Filament used:
  1.18496m`` (one length per extruder), ``;Layer height: 0.2``, ``;Generated with
  Cura_SteamEngine 4.13.0``.
* Griffin (Ultimaker 3/S-line): ``;START_OF_HEADER`` ... ``;END_OF_HEADER`` with
  ``;PRINT.TIME:``, ``;EXTRUDER_TRAIN.n.MATERIAL.VOLUME_USED:`` (mm^3), ``...MATERIAL.GUID:``
  and ``;TARGET_MACHINE.NAME:``.
* UltiGCode (Ultimaker 2): ``;TIME:``, ``;MATERIAL:`` and ``;MATERIAL2:`` (mm^3).

The settings Cura serialises at the end (``;SETTING_3 {...}``) give the layer height when
the header does not. CuraEngine run on its own leaves its placeholder header (``;TIME:6666``,
``;Filament used: 0m``, ``;MINX:2.14748e+06``): those values mean unknown.
"""

from __future__ import annotations

import re
from typing import Any

from printharvest.connectors.gcode.text import (
    BannerGcodeConnector,
    GcodeText,
    Slot,
    colon_values,
    comment_values,
    leading_number,
    ml_from_length,
    named_printer,
    number,
    print_fields,
    split_list,
)

ENGINE_PLACEHOLDER_TIME = "6666"
"""What CuraEngine writes for ``;TIME:`` before the front end fills in the estimate."""
_PLACEHOLDER_MIN = "2.14748e+06"
_ESTIMATE_KEYS = ("TIME", "Filament used", "PRINT.TIME", "MATERIAL", "MATERIAL2")
_GRIFFIN_USED = re.compile(r"^EXTRUDER_TRAIN\.(\d+)\.MATERIAL\.VOLUME_USED$")
_SETTING_LAYER = re.compile(r"(?:^|\\n|\n)layer_height\s*=\s*([\d.]+)")

ULTIMAKER_GUIDS: dict[str, tuple[str, float]] = {
    # Generic materials of Ultimaker's fdm_materials (Debian package fdm-materials 4.13):
    # GUID -> (material, density g/cm^3).
    "506c9f0d-e3aa-4bd4-b2d2-23e2425b1aa9": ("PLA", 1.24),
    "9d5d2d7c-4e77-441c-85a0-e9eefd4aa68c": ("Tough PLA", 1.22),
    "60636bb4-518f-42e7-8237-fe77b194ebe0": ("ABS", 1.10),
    "1cbfaeb3-1906-4b26-b2e7-6f777a8c197a": ("PETG", 1.27),
    "12f41353-1a33-415e-8b4f-a775a6c70cc6": ("CPE", 1.27),
    "e2409626-b5a0-4025-b73e-b58070219259": ("CPE+", 1.18),
    "98c05714-bf4e-4455-ba27-57d74fe331e4": ("PC", 1.19),
    "28fb4162-db74-49e1-9008-d05f1e8bef5c": ("Nylon", 1.14),
    "aa22e9c7-421f-4745-afc2-81851694394a": ("PP", 0.89),
    "1d52b2be-a3a2-41de-a8b1-3bcdb5618695": ("TPU 95A", 1.22),
    "86a89ceb-4159-47f6-ab97-e9953803d70f": ("PVA", 1.23),
    "7e6207c4-22ff-441a-b261-ff89f166d6a0": ("Breakaway", 1.22),
    "b6f76172-bb0f-4326-bdbc-ee8f0e84b283": ("HIPS", 1.03),
}
ML_PER_MM3 = 1e-3


class CuraConnector(BannerGcodeConnector):
    """G-code written by Cura (CuraEngine), any flavour."""

    id = "cura"
    label = "Cura G-code (Marlin, Griffin, UltiGCode)"
    version = "1.0"
    banner = re.compile(
        r"^;(?:Generated with |GENERATOR\.NAME:)Cura_SteamEngine"
        r"(?:\s+(?P<version>\S+))?", re.MULTILINE)
    slicer_name = "Cura"
    banner_lines = 60

    def read(self, text: GcodeText, warnings: list[str]) -> dict[str, Any]:
        """Header values by flavour, layer height from the settings when missing."""
        values = colon_values(text.top)
        if values.get("TIME") == ENGINE_PLACEHOLDER_TIME or values.get("MINX") == _PLACEHOLDER_MIN:
            warnings.append("header still holds CuraEngine's placeholders: estimates unknown")
            values = {k: v for k, v in values.items()
                      if k not in _ESTIMATE_KEYS
                      and not _GRIFFIN_USED.match(k)}
        flavor = values.get("FLAVOR", "").lower()
        if flavor in ("griffin", "ultigcode") or "PRINT.TIME" in values:
            slots = _griffin_slots(values) if flavor != "ultigcode" else _ulti_slots(values)
            seconds = number(values.get("PRINT.TIME") or values.get("TIME"))
        else:
            slots = _marlin_slots(values, text)
            seconds = number(values.get("TIME"))
        layer = leading_number(values.get("Layer height")) or _settings_layer(text)
        return {
            "slicer_version": values.get("GENERATOR.VERSION"),
            # CuraEngine writes fused-filament toolpaths only: a dual-extruder machine that
            # no printer rule knows is still material extrusion, like a single-extruder one.
            "technology": "material_extrusion",
            "printer": named_printer(values.get("TARGET_MACHINE.NAME")),
            **print_fields(slots, layer, seconds, warnings),
        }


def guid_material(guid: str | None) -> tuple[str | None, float | None]:
    """(material type, density) of a known generic Ultimaker material GUID."""
    if not guid:
        return None, None
    found = ULTIMAKER_GUIDS.get(guid.strip().lower())
    return (found[0], found[1]) if found else (None, None)


def _griffin_slots(values: dict[str, str]) -> list[Slot]:
    slots: list[Slot] = []
    for key in sorted(values):
        match = _GRIFFIN_USED.match(key)
        if not match:
            continue
        n = match.group(1)
        volume = number(values[key])
        guid = values.get(f"EXTRUDER_TRAIN.{n}.MATERIAL.GUID") or None
        kind, density = guid_material(guid)
        ml = None if volume is None else volume * ML_PER_MM3
        grams = None if ml is None or density is None else ml * density
        slots.append(Slot(used_ml=ml, used_g=grams, code=guid, type=kind, name=kind))
    return slots


def _ulti_slots(values: dict[str, str]) -> list[Slot]:
    slots = []
    for key in ("MATERIAL", "MATERIAL2"):
        volume = number(values.get(key))
        if volume is not None:
            slots.append(Slot(used_ml=volume * ML_PER_MM3))
    return slots


def _marlin_slots(values: dict[str, str], text: GcodeText) -> list[Slot]:
    # Start G-code templates of some printer definitions add "; Filament type = PLA",
    # "; Filament name = ..." and "; Filament weight = [3.1, 0.0]" (grams per extruder).
    said = comment_values(text.top)
    values = {**{k: v for k, v in said.items() if k.startswith("Filament ")}, **values}
    lengths = [leading_number(p) for p in split_list(values.get("Filament used"), ",")]
    diameter = _settings_value(text, "material_diameter")
    weights = [number(w) for w in split_list(values.get("Filament weight", "").strip("[] "))]
    kind = values.get("Filament type") or None
    slots = []
    for i, metres in enumerate(lengths):
        mm = None if metres is None else metres * 1000.0
        grams = weights[i] if i < len(weights) else None
        slots.append(Slot(used_mm=mm, used_ml=ml_from_length(mm, diameter), used_g=grams,
                          type=kind, name=values.get("Filament name") or kind))
    return slots


def _settings_text(text: GcodeText) -> str:
    """The ``;SETTING_3`` lines Cura appends (serialised profiles), joined (or ``""``)."""
    pieces = [line[len(";SETTING_3 "):] for line in text.tail.splitlines() or
              text.head.splitlines() if line.startswith(";SETTING_3 ")]
    if not pieces:
        return ""
    # The JSON escapes the profiles' line ends twice; searching the raw text for a
    # backslash-n before the key is enough and needs no decoding.
    return "".join(pieces)


def _settings_value(text: GcodeText, key: str) -> float | None:
    match = re.search(r"(?:\\n|\n)" + re.escape(key) + r"\s*=\s*([\d.]+)", _settings_text(text))
    return number(match.group(1)) if match else None


def _settings_layer(text: GcodeText) -> float | None:
    match = _SETTING_LAYER.search(_settings_text(text))
    return number(match.group(1)) if match else None

