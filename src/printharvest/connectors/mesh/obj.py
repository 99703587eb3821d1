"""Wavefront OBJ: ``v`` lines (points) and ``f`` lines (polygons, ``v/vt/vn`` corners,
negative indices counted back from the last vertex so far). Taken as millimetres.
"""

from __future__ import annotations

import re

import numpy as np

from printharvest.connectors.mesh.base import MAX_MESH_BYTES, MeshConnector, fail, guarded
from printharvest.connectors.mesh.geometry import MeshFigures, split_bodies
from printharvest.connectors.mesh.names import name_single_body, obj_object_names
from printharvest.connectors.mesh.polygons import fan_triangles
from printharvest.connectors.probe import FileProbe
from printharvest.models import HarvestRecord

_CONTINUATION = re.compile(rb"\\[ \t]*\r?\n")


class ObjConnector(MeshConnector):
    """Wavefront OBJ meshes (geometry only; materials and texture coordinates ignored)."""

    id = "obj"
    label = "Wavefront OBJ mesh"
    version = "1.0"
    patterns = ("*.obj", "*.mtl")

    def detect(self, probe: FileProbe) -> float:
        """Lines starting ``v `` and ``f `` in the head, and no binary bytes.

        An OBJ's material library (``.mtl`` with ``newmtl``) is claimed too, so that it is
        not reported as an unknown file; it yields no record.
        """
        head = probe.head[:65536]
        if b"\x00" in head:
            return 0.0
        if probe.lower_name.endswith(".mtl") and b"newmtl" in head:
            return 0.6
        lines = head.splitlines()
        has_v = any(line[:2] in (b"v ", b"v\t") for line in lines)
        has_f = any(line[:2] in (b"f ", b"f\t") for line in lines)
        if has_v and (has_f or not probe.is_whole):
            return 0.8 if probe.matches(self.patterns) else 0.5
        return 0.3 if probe.matches(self.patterns) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One mesh record; none for a material library, which only styles an OBJ."""
        if probe.lower_name.endswith(".mtl") and b"newmtl" in probe.head[:65536]:
            return []
        return super().harvest(probe)

    def figures(self, probe: FileProbe) -> MeshFigures:
        """Parse points and polygons, then the shared geometry."""
        data = probe.read_all(MAX_MESH_BYTES)
        vertices, faces = guarded(probe, "OBJ line cannot be read", lambda: parse_obj(data))
        if len(vertices) == 0:
            raise fail(probe, "OBJ has no vertices")
        if len(faces) == 0:
            raise fail(probe, "OBJ has no faces")
        # ``o``/``g`` NAME: an exporter's part name (one mesh per segment) for one body
        return name_single_body(split_bodies(vertices, faces), obj_object_names(data))


def parse_obj(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(N, 3)`` float64 and fan-triangulated faces ``(F, 3)`` (0-based)."""
    points: list[bytes] = []
    polygons: list[list[int]] = []
    # A backslash at the end of a line continues it on the next (exporters wrap long
    # face lines this way); groups, smoothing groups, vp, materials and the rest are read
    # past: they style or organise the geometry without changing it.
    data = _CONTINUATION.sub(b" ", data)
    for raw in data.splitlines():
        line = raw.strip()
        tag = line[:2]
        if tag in (b"v ", b"v\t"):
            points.append(line)
        elif tag in (b"f ", b"f\t"):
            corners = []
            for token in line.split()[1:]:
                index = int(token.split(b"/", 1)[0])
                # OBJ counts from 1; negative counts back from the latest vertex.
                corners.append(index - 1 if index > 0 else len(points) + index)
                if index == 0:
                    raise ValueError("vertex index 0")
            polygons.append(corners)
    vertices = np.array([p.split()[1:4] for p in points], dtype=np.float64).reshape(-1, 3)
    return vertices, fan_triangles(polygons)
