"""Mesh files (STL) read with trimesh: volume, area, bounding box, parts, watertightness.

STL carries no unit; the contract takes it as millimetres.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from ..exceptions import CorruptFileError
from ..models import HarvestRecord, Part
from ..probe import FileProbe
from .base import FileConnector

MAX_MESH_BYTES = 2 << 30
_MM3_PER_ML = 1000.0


class StlConnector(FileConnector):
    """Binary and ASCII STL."""

    id = "stl"
    label = "STL mesh"
    version = "1.0"
    patterns = ("*.stl",)

    def detect(self, probe: FileProbe) -> float:
        """Binary STL has an exact size from its triangle count; ASCII starts with 'solid'."""
        if probe.size >= 84:
            count = int.from_bytes(probe.head[80:84], "little")
            if probe.size == 84 + 50 * count:
                return 0.9 if count else 0.5
        text = probe.head[:1024].lstrip().lower()
        if text.startswith(b"solid") and b"facet" in probe.head[:4096].lower():
            return 0.9
        return 0.3 if probe.matches(self.patterns) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One mesh record for the whole file, one part per separate body."""
        data = probe.read_all(MAX_MESH_BYTES)
        mesh = _load(probe, data)
        return [mesh_record(self, probe, mesh)]


def _load(probe: FileProbe, data: bytes) -> Any:
    import trimesh

    try:
        mesh = trimesh.load(io.BytesIO(data), file_type="stl", process=True)
    except Exception as exc:
        reason = f"not a readable STL ({type(exc).__name__})"
        raise CorruptFileError(probe.display_path, reason) from exc
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise CorruptFileError(probe.display_path, "STL holds no triangles")
    if not np.isfinite(mesh.vertices).all():
        raise CorruptFileError(probe.display_path, "STL has NaN or infinite coordinates")
    return mesh


def mesh_record(connector: FileConnector, probe: FileProbe, mesh: Any) -> HarvestRecord:
    """Figures of a loaded trimesh in the contract's units."""
    warnings: list[str] = []
    bodies = mesh.split(only_watertight=False)
    parts = []
    for body in bodies:
        volume = abs(float(body.volume)) / _MM3_PER_ML if body.is_watertight else None
        parts.append(Part(name=None, volume_ml=_round(volume), bbox_mm=_bbox(body)))
    parts.sort(key=lambda p: -(p.volume_ml or 0.0))
    watertight = bool(mesh.is_watertight)
    volume_ml = _round(abs(float(mesh.volume)) / _MM3_PER_ML) if watertight else None
    if not watertight:
        warnings.append("mesh is not watertight: volume left unknown")
    return connector.new_record(
        probe,
        "mesh",
        part_count=len(bodies),
        parts=parts,
        volume_ml=volume_ml,
        surface_area_mm2=_round(float(mesh.area)),
        bbox_mm=_bbox(mesh),
        watertight=watertight,
        warnings=warnings,
    )


def _bbox(mesh: Any) -> list[float]:
    extents = mesh.bounds[1] - mesh.bounds[0]
    return [round(float(v), 4) for v in extents]


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 4)
