"""Part names that mesh exporters keep: STL ``solid NAME``, OBJ ``o NAME`` / ``g NAME``.

A name is a hint for the part's anatomy (``solid Left kidney``); like a file name it is local
text, matched by the anatomy rules and never sent. Names exporters write for every file
(``solid ascii``, ``OpenSCAD_Model``, ``Visualization Toolkit generated SLA File``) say
nothing about the part and are dropped. A name is given only to a file's single body: with
several bodies there is no telling which body a name meant.

PLY ``comment`` / ``obj_info`` lines are not read as names: the exporters looked at write
banners there (VTK and so 3D Slicer ``VTK generated PLY File``, Slicer's ``SPACE=LPS``,
vcglib/MeshLab ``VCGLIB generated``, Blender ``Created in Blender version ...``) or a texture's
file name (``TextureFile ...``), never a part name.
"""

from __future__ import annotations

import re
from dataclasses import replace

from printharvest.connectors.mesh.geometry import MeshFigures

MAX_NAME = 120
_GENERIC = re.compile(
    r"^(ascii|binary|default|object|mesh|model|part|stl|solid|untitled|unnamed|noname|"
    r"openscad_model|\d+)$|generated|exported|created|visualization toolkit|\bvtk\b|"
    r"\bcolor=|\bfacet\b", re.IGNORECASE)


def useful_name(raw: bytes | str) -> str | None:
    """The name as text, or None when it is empty, generic or not plain text."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = " ".join(text.split())
    if not text or len(text) > MAX_NAME or "\ufffd" in text or _GENERIC.search(text):
        return None
    return text


def name_single_body(figures: MeshFigures, names: list[str]) -> MeshFigures:
    """Give the one distinct useful name to the file's only body (else change nothing)."""
    distinct = list(dict.fromkeys(n for n in names if n))
    if len(figures.bodies) != 1 or len(distinct) != 1 or figures.bodies[0].name:
        return figures
    figures.bodies[0] = replace(figures.bodies[0], name=distinct[0])
    return figures


def stl_solid_names(head: bytes) -> list[str]:
    """``solid NAME`` names of an ASCII STL's head (useful ones only)."""
    names: list[str] = []
    for line in head.splitlines():
        stripped = line.strip()
        if stripped[:5].lower() == b"solid" and (len(stripped) == 5 or stripped[5:6].isspace()):
            name = useful_name(stripped[6:])
            if name:
                names.append(name)
    return names


def obj_object_names(data: bytes) -> list[str]:
    """``o`` and ``g`` names of an OBJ (useful ones only)."""
    names: list[str] = []
    for line in data.splitlines():
        stripped = line.strip()
        if stripped[:2] in (b"o ", b"g ", b"o\t", b"g\t"):
            name = useful_name(stripped[2:])
            if name:
                names.append(name)
    return names
