"""Helpers shared by the text and indexed mesh formats (OBJ, OFF, PLY): polygon fans."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fan_triangles(polygons: Sequence[Sequence[int]]) -> np.ndarray:
    """Triangulate convex polygons as fans around their first corner: ``(F, 3)`` int64.

    Polygons of fewer than three corners (points, lines) are dropped.
    """
    triangles: list[tuple[int, int, int]] = []
    append = triangles.append
    for poly in polygons:
        if len(poly) == 3:
            append((poly[0], poly[1], poly[2]))
            continue
        first = poly[0]
        for i in range(1, len(poly) - 1):
            append((first, poly[i], poly[i + 1]))
    if not triangles:
        return np.zeros((0, 3), np.int64)
    return np.array(triangles, dtype=np.int64)


def triangles_from_counts(counts: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Fans from a flat index list and per-polygon corner counts (vectorised when all 3)."""
    if len(counts) and (counts == 3).all():
        return flat.reshape(-1, 3).astype(np.int64)
    polygons: list[list[int]] = []
    pos = 0
    values = flat.tolist()
    for k in counts.tolist():
        polygons.append(values[pos:pos + k])
        pos += k
    return fan_triangles(polygons)
