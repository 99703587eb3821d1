"""Object File Format (OFF, also COFF/NOFF/CNOFF): a counts line, vertex lines, then
face lines ``k i1 .. ik [colour]``. ``#`` starts a comment. Taken as millimetres.
"""

from __future__ import annotations

import re

import numpy as np

from printharvest.connectors.mesh.base import (
    MAX_MESH_BYTES,
    MAX_TRIANGLES,
    MeshConnector,
    fail,
    guarded,
)
from printharvest.connectors.mesh.geometry import MeshFigures, split_bodies
from printharvest.connectors.mesh.polygons import fan_triangles
from printharvest.connectors.probe import FileProbe

_MAGIC = re.compile(rb"^\s*(?:#[^\n]*\n\s*)*(ST)?C?N?4?n?OFF(?![A-Za-z])")
"""The keyword, after any leading whitespace and comment lines; counts may follow it with
no space between (``OFF8 6 12``)."""
_KEYWORD = re.compile(rb"^((?:ST)?C?N?4?n?OFF)(.*)$")


class OffConnector(MeshConnector):
    """ASCII OFF meshes."""

    id = "off"
    label = "OFF mesh"
    version = "1.0"
    patterns = ("*.off",)

    def detect(self, probe: FileProbe) -> float:
        """The ``OFF`` keyword starts the file."""
        if _MAGIC.match(probe.head[:4096]):
            return 0.85 if probe.matches(self.patterns) else 0.6
        return 0.0

    def figures(self, probe: FileProbe) -> MeshFigures:
        """Parse the counts, points and polygons, then the shared geometry."""
        data = probe.read_all(MAX_MESH_BYTES)
        if b"\x00" in data[:4096]:
            raise fail(probe, "binary OFF is not supported")
        vertices, faces = guarded(probe, "OFF content cannot be read",
                                  lambda: parse_off(probe, data))
        return split_bodies(vertices, faces)


def parse_off(probe: FileProbe, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(N, 3)`` float64 and fan-triangulated faces ``(F, 3)``."""
    lines = [ln.split(b"#", 1)[0].split() for ln in data.splitlines()]
    lines = [ln for ln in lines if ln]
    first = lines[0]
    glued = _KEYWORD.match(first[0])
    if glued is None:
        raise fail(probe, "OFF keyword missing")
    keyword = glued.group(1)
    if b"4" in keyword or keyword.startswith(b"n"):
        raise fail(probe, "4D or n-dimensional OFF is not supported")
    # Some exporters glue the first count to the keyword ("OFF8 6 12").
    first = [keyword, *([glued.group(2)] if glued.group(2) else []), *first[1:]]
    counts = first[1:] if len(first) > 1 else lines[1]
    body = lines[1:] if len(first) > 1 else lines[2:]
    n_vertices, n_faces = int(counts[0]), int(counts[1])
    if n_vertices <= 0 or n_faces <= 0:
        raise fail(probe, "OFF declares no vertices or no faces")
    if n_faces > MAX_TRIANGLES or n_vertices > 3 * MAX_TRIANGLES:
        raise fail(probe, "OFF declares more elements than a model can hold")
    if len(body) < n_vertices + n_faces:
        raise fail(probe, f"OFF truncated: {n_vertices} vertices and {n_faces} faces declared, "
                          f"{len(body)} lines found")
    vertices = np.array([ln[:3] for ln in body[:n_vertices]], dtype=np.float64)
    polygons = []
    for ln in body[n_vertices:n_vertices + n_faces]:
        k = int(ln[0])
        if len(ln) < k + 1:
            raise fail(probe, "OFF face line has fewer indices than it declares")
        polygons.append([int(v) for v in ln[1:k + 1]])
    return vertices.reshape(-1, 3), fan_triangles(polygons)
