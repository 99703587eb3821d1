"""Ultimaker Format Package (``.ufp``): a zip (OPC) holding the G-code and its materials.

Member names start with ``/``: the G-code is ``/3D/model.gcode`` (Griffin flavour, read as
a head and tail window like a loose file), material profiles are
``/Materials/*.xml.fdm_material`` (GUID, brand, material, density), the thumbnail is
``/Metadata/thumbnail.png``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from printharvest.connectors.base import FileConnector
from printharvest.connectors.gcode.cura import CuraConnector
from printharvest.connectors.gcode.text import GcodeText, fallback, ml_from_length, number
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.zipped import find_member, member_probe, open_zip, read_small
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Material, Slicer

GCODE_MEMBER = "/3D/model.gcode"
_FDM_NS = "{http://www.ultimaker.com/material}"


@dataclass
class MaterialProfile:
    """What an ``.xml.fdm_material`` profile says about one material."""

    guid: str
    brand: str | None
    material: str | None
    density: float | None
    diameter: float | None


class UfpConnector(FileConnector):
    """Ultimaker Format Package."""

    id = "ufp"
    label = "Ultimaker Format Package (.ufp)"
    version = "1.0"
    patterns = ("*.ufp",)

    def detect(self, probe: FileProbe) -> float:
        """Sure when the zip holds ``/3D/model.gcode``."""
        members = {m.lstrip("/").lower() for m in probe.zip_members or ()}
        return 0.97 if GCODE_MEMBER.lstrip("/").lower() in members else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """The G-code's record, with material names and weights from the profiles."""
        with open_zip(probe) as zf:
            info = find_member(zf, GCODE_MEMBER)
            if info is None:
                raise CorruptFileError(probe.display_path, "no /3D/model.gcode in the package")
            inner = member_probe(zf, info, probe)
            profiles = {}
            for member in zf.infolist():
                name = member.filename.lstrip("/")
                if name.lower().startswith("materials/") and name.endswith(".fdm_material"):
                    profile = _profile(read_small(zf, member, probe.display_path))
                    if profile is not None:
                        profiles[profile.guid] = profile
        cura = CuraConnector()
        text = GcodeText(inner, cura.banner_lines)
        match = cura.banner.search(text.top)
        if match is None:
            raise CorruptFileError(probe.display_path, "/3D/model.gcode is not Cura G-code")
        warnings: list[str] = []
        fields = cura.read(text, warnings)
        version = fields.pop("slicer_version", None) or match.group("version")
        fields["materials"] = _with_profiles(fields["materials"], profiles)
        slicer = Slicer(name="Cura", version=version)
        return [fallback(self.new_record(probe, "print", slicer=slicer, warnings=warnings,
                                         **fields))]


def _profile(data: bytes) -> MaterialProfile | None:
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    guid = root.findtext(f"{_FDM_NS}metadata/{_FDM_NS}GUID")
    if not guid:
        return None
    name = f"{_FDM_NS}metadata/{_FDM_NS}name/{_FDM_NS}"
    return MaterialProfile(guid=guid.strip().lower(),
                           brand=(root.findtext(name + "brand") or "").strip() or None,
                           material=(root.findtext(name + "material") or "").strip() or None,
                           density=number(root.findtext(f"{_FDM_NS}properties/{_FDM_NS}density")),
                           diameter=number(
                               root.findtext(f"{_FDM_NS}properties/{_FDM_NS}diameter")))


def _with_profiles(
    materials: list[Material], profiles: dict[str, MaterialProfile]
) -> list[Material]:
    """Name materials from the package's profiles: by GUID (Griffin), or, for a header
    without GUIDs, from the profiles when one material was used and they all agree."""
    named = []
    kinds = {(p.brand, p.material) for p in profiles.values()}
    for material in materials:
        profile = profiles.get((material.code or "").lower())
        if profile is None and len(materials) == 1 and len(kinds) == 1:
            profile = _merged(list(profiles.values()))
        named.append(material if profile is None else _named(material, profile))
    return named


def _merged(profiles: list[MaterialProfile]) -> MaterialProfile:
    """Profiles of one material (e.g. 2.85 and 1.75 mm): keep what they agree on."""
    first = profiles[0]
    densities = {p.density for p in profiles}
    diameters = {p.diameter for p in profiles}
    return MaterialProfile(guid="", brand=first.brand, material=first.material,
                           density=first.density if len(densities) == 1 else None,
                           diameter=first.diameter if len(diameters) == 1 else None)


def _named(material: Material, profile: MaterialProfile) -> Material:
    grams = material.used_g
    ml = material.used_ml
    if ml is None and material.used_mm is not None:
        ml = ml_from_length(material.used_mm, profile.diameter)
    if ml is not None and profile.density:
        grams = round(ml * profile.density, 4)  # the package's own density
    name = " ".join(filter(None, (profile.brand, profile.material))) or material.name
    return material.model_copy(update={
        "name": name, "type": profile.material or material.type, "used_g": grams,
        "used_ml": None if ml is None else round(ml, 4)})
