"""Settings that slicer projects keep inside an (unsliced) 3MF: slicer, material, layer height.

* PrusaSlicer (and its forks) write ``Metadata/Slic3r_PE.config`` as ``; key = value`` lines,
  per-extruder values joined by ``;``; ``Metadata/Slic3r_PE_model.config`` assigns each
  object an ``extruder`` (1-based, 0 or absent meaning the first).
* Bambu Studio and Orca Slicer write ``Metadata/project_settings.config`` as JSON, per
  filament values as lists; ``Metadata/model_settings.config`` assigns ``extruder``.

Only the filaments that objects use are reported (``role`` ``model``); amounts stay unknown
because nothing has been sliced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import ParseError

from printharvest.models import Material, Slicer

Reader = Callable[[str], bytes | None]
_PRUSA = "Metadata/Slic3r_PE.config"
_PRUSA_MODEL = "Metadata/Slic3r_PE_model.config"
_BAMBU = "Metadata/project_settings.config"
_BAMBU_MODEL = "Metadata/model_settings.config"
_LINE = re.compile(r"^;\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$", re.M)
_EXTRUDER = re.compile(rb'key="extruder"\s+value="(\d+)"')
_APP = re.compile(r"^([A-Za-z][A-Za-z0-9 ._]*?)[- ](\d[\w.+-]*)")


def project_fields(read: Reader, application: str | None) -> dict[str, Any]:
    """Record fields (``slicer``, ``materials``, ``layer_height_mm``, ``warnings``) found."""
    fields: dict[str, Any] = {}
    slicer = parse_application(application)
    if slicer is not None:
        fields["slicer"] = slicer
    settings = _prusa_settings(read) or _bambu_settings(read)
    if settings is None:
        return fields
    values, model_config = settings
    used = sorted(_used_extruders(model_config))
    types = values.get("filament_type", [])
    names = values.get("filament_settings_id", [])
    materials = []
    for extruder in used:
        i = extruder - 1
        kind = types[i] if i < len(types) else None
        name = names[i] if i < len(names) else None
        if kind or name:
            materials.append(Material(name=name or None, type=kind or None, role="model"))
    fields["materials"] = materials
    layer = _number(values.get("layer_height", []))
    if layer is not None and 0 < layer < 10:
        fields["layer_height_mm"] = layer
    return fields


def parse_application(text: str | None) -> Slicer | None:
    """``PrusaSlicer-2.6.0+linux`` -> PrusaSlicer 2.6.0; ``BambuStudio-01.09.00.70`` likewise."""
    if not text:
        return None
    match = _APP.match(text.strip())
    if match is None:
        return Slicer(name=text.strip()[:60])
    version = match.group(2).split("+", 1)[0]
    return Slicer(name=match.group(1).strip(), version=version)


def _prusa_settings(read: Reader) -> tuple[dict[str, list[str]], bytes | None] | None:
    data = read(_PRUSA)
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    values = {key: [_unquote(v) for v in value.split(";")] for key, value in _LINE.findall(text)}
    return values, read(_PRUSA_MODEL)


def _bambu_settings(read: Reader) -> tuple[dict[str, list[str]], bytes | None] | None:
    data = read(_BAMBU)
    if data is None:
        return None
    try:
        raw = json.loads(data.decode("utf-8", "replace"))
    except (ValueError, ParseError):
        return None
    if not isinstance(raw, dict):
        return None
    values: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            values[key] = [str(v) for v in value]
        elif isinstance(value, str | int | float):
            values[key] = [str(value)]
    return values, read(_BAMBU_MODEL)


def _used_extruders(model_config: bytes | None) -> set[int]:
    used = {int(v) for v in _EXTRUDER.findall(model_config or b"")}
    used = {u if u > 0 else 1 for u in used}
    return used or {1}


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value


def _number(values: list[str]) -> float | None:
    try:
        return float(values[0]) if values else None
    except ValueError:
        return None
