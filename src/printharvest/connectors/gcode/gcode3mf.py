"""Sliced 3MF (``.gcode.3mf``) from Bambu Studio, OrcaSlicer and their forks.

A zip whose ``Metadata/slice_info.config`` (XML) holds one ``<plate>`` per sliced plate:
``<metadata key="prediction">`` (seconds), ``weight`` (g), ``printer_model_id``, one
``<object>`` per object on the plate and one ``<filament type= used_m= used_g=>`` per
filament used. ``Metadata/plate_N.gcode`` is the plate's G-code (its header names the
slicer; its config block the layer height), ``Metadata/plate_N.json`` the plate's objects
with their *first-layer* height, and ``Metadata/project_settings.config`` (JSON) the
settings (the print's ``layer_height``). There is no geometry: part count is
the number of objects on the plate. An unsliced project 3MF belongs to the 3MF mesh connector.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.gcode.text import (
    Slot,
    checked,
    fallback,
    first_lines,
    generated_by,
    head_text,
    named_printer,
    number,
    print_fields,
)
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.zipped import find_member, member_probe, open_zip, read_small
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Slicer

SLICE_INFO = "Metadata/slice_info.config"
PROJECT_SETTINGS = "Metadata/project_settings.config"
_PLATE_GCODE = re.compile(r"^/?Metadata/plate_(\d+)\.gcode$", re.IGNORECASE)
_BAMBU_BANNER = re.compile(r"^;\s*BambuStudio\s+(\S+)", re.MULTILINE)
_APPLICATION = re.compile(rb'<metadata name="Application">\s*([^<]+?)\s*</metadata>')
BAMBU_MODEL_IDS = {
    # printer_model_id in slice_info.config -> printer model (Bambu Studio's machine list)
    "BL-P001": "Bambu Lab X1 Carbon", "BL-P002": "Bambu Lab X1", "C13": "Bambu Lab X1E",
    "C11": "Bambu Lab P1P", "C12": "Bambu Lab P1S", "N1": "Bambu Lab A1 mini",
    "N2S": "Bambu Lab A1", "O1D": "Bambu Lab H2D",
}


class SlicedThreeMfConnector(FileConnector):
    """A sliced ``.gcode.3mf``: one print record per sliced plate."""

    id = "gcode3mf"
    label = "Sliced 3MF (.gcode.3mf: Bambu Studio, OrcaSlicer)"
    version = "1.0"
    patterns = ("*.gcode.3mf", "*.3mf")

    def detect(self, probe: FileProbe) -> float:
        """Sure when the zip holds a plate's G-code; weak on slice info alone.

        Project files also carry an (empty) ``slice_info.config``; without plate G-code the
        3MF mesh connector should win them.
        """
        members = probe.zip_members or ()
        if any(_PLATE_GCODE.match(m) for m in members):
            return 0.97
        names = {m.lstrip("/").lower() for m in members}
        return 0.5 if SLICE_INFO.lower() in names else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One record per ``<plate>`` of the slice info."""
        with open_zip(probe) as zf:
            info = find_member(zf, SLICE_INFO)
            if info is None:
                raise CorruptFileError(probe.display_path, "no Metadata/slice_info.config: "
                                                           "not a sliced 3MF")
            root = _xml(read_small(zf, info, probe.display_path), probe)
            settings = _settings(zf, probe)
            plates = root.findall("plate")
            if not plates:
                raise CorruptFileError(probe.display_path, "slice info holds no sliced plate")
            records = []
            for index, plate in enumerate(plates):
                records.append(self._plate_record(probe, zf, plate, settings, index))
        return records

    def _plate_record(self, probe: FileProbe, zf: zipfile.ZipFile, plate: ET.Element,
                      settings: dict[str, Any], index: int) -> HarvestRecord:
        meta = {m.get("key", ""): m.get("value", "") for m in plate.findall("metadata")}
        number_of_plate = meta.get("index") or str(index + 1)
        warnings: list[str] = []
        slicer, gcode_layer = _slicer(zf, probe, number_of_plate)
        model = _setting(settings, "printer_model") or BAMBU_MODEL_IDS.get(
            meta.get("printer_model_id", ""))
        slots = _slots(plate, settings)
        if not slots and number(meta.get("weight")):
            slots = [Slot(used_g=number(meta.get("weight")))]
        # The plate JSON's per-object layer_height is the first layer's (it describes the
        # first-layer boxes the printer inspects): the print's configured layer height is
        # in the plate G-code's config block and the project settings.
        layer = gcode_layer or number(_setting(settings, "layer_height")) or _plate_layer(
            zf, probe, number_of_plate)
        checked(number(meta.get("weight")), 1e6, "plate weight", "g", warnings)
        return fallback(self.new_record(
            probe, "print", index=index,
            slicer=slicer,
            printer=named_printer(model),
            part_count=len(plate.findall("object")),
            warnings=warnings,
            **print_fields(slots, layer, number(meta.get("prediction")), warnings),
        ))


def _xml(data: bytes, probe: FileProbe) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise CorruptFileError(probe.display_path, f"slice info is not XML ({exc})") from exc


def _settings(zf: zipfile.ZipFile, probe: FileProbe) -> dict[str, Any]:
    info = find_member(zf, PROJECT_SETTINGS)
    if info is None:
        return {}
    try:
        data = json.loads(read_small(zf, info, probe.display_path))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _setting(settings: dict[str, Any], key: str, index: int = 0) -> str | None:
    value = settings.get(key)
    if isinstance(value, list):
        value = value[index] if 0 <= index < len(value) else None
    return str(value).strip() or None if value is not None else None


def _slots(plate: ET.Element, settings: dict[str, Any]) -> list[Slot]:
    slots = []
    for filament in plate.findall("filament"):
        slot_id = int(number(filament.get("id")) or 1)
        kind = filament.get("type") or None
        metres = number(filament.get("used_m"))
        name = _setting(settings, "filament_settings_id", slot_id - 1)
        slots.append(Slot(used_mm=None if metres is None else metres * 1000.0,
                          used_g=number(filament.get("used_g")), type=kind,
                          name=name or kind, code=filament.get("tray_info_idx") or None))
    return slots


def _slicer(zf: zipfile.ZipFile, probe: FileProbe, plate: str) -> tuple[Slicer | None,
                                                                        float | None]:
    """The slicer from the plate G-code's header, else from the model's Application."""
    gcode = find_member(zf, f"Metadata/plate_{plate}.gcode")
    layer = None
    if gcode is not None:
        inner = member_probe(zf, gcode, probe)
        top = first_lines(head_text(inner), 60)
        layer_match = re.search(r"^;\s*layer_height\s*=\s*([\d.]+)", head_text(inner),
                                re.MULTILINE)
        layer = number(layer_match.group(1)) if layer_match else None
        banner = _BAMBU_BANNER.search(top)
        if banner:
            return Slicer(name="BambuStudio", version=banner.group(1)), layer
        found = generated_by(top)
        if found:
            return Slicer(name=found[0], version=found[1]), layer
    model = find_member(zf, "3D/3dmodel.model")
    if model is not None:
        with zf.open(model) as fh:
            match = _APPLICATION.search(fh.read(64 * 1024))
        if match:
            # "BambuStudio-01.09", "Snapmaker Orca-2.1.0", "Orca-Flashforge-1.3.0": the
            # version is the last dash-separated piece that starts with a digit.
            text = match.group(1).decode("utf-8", "replace").strip()
            named = re.match(r"^(.*?)-(\d[^-]*)$", text)
            name, version = (named.group(1), named.group(2)) if named else (text, "")
            return Slicer(name=name.strip(), version=version.strip() or None), layer
    return None, layer


def _plate_layer(zf: zipfile.ZipFile, probe: FileProbe, plate: str) -> float | None:
    info = find_member(zf, f"Metadata/plate_{plate}.json")
    if info is None:
        return None
    try:
        data = json.loads(read_small(zf, info, probe.display_path))
    except ValueError:
        return None
    objects = data.get("bbox_objects") if isinstance(data, dict) else None
    heights = {number(str(o.get("layer_height"))) for o in objects or []
               if isinstance(o, dict) and o.get("layer_height") is not None}
    heights.discard(None)
    return heights.pop() if len(heights) == 1 else None
