"""Mesh figures with plain numpy: vertex merge, bodies, volume, area, bounding box, watertight.

Every mesh connector turns its file into ``vertices`` (``(N, 3)`` floats, millimetres) and
``faces`` (``(F, 3)`` vertex indices, or ``None`` for a triangle soup such as STL, where
every three rows of ``vertices`` are one triangle) and calls :func:`split_bodies` (a body
is a connected component after merging coincident vertices) or :func:`whole_body` (one
3MF build item is one part, whatever its shells).

Vertices merge when they fall on the same node of a 1e-8 mm grid (so ``-0.0``, ``0.0`` and
CAD noise such as ``-2.7e-16`` join, as they do in trimesh): a 64-bit hash of the grid
node is sorted together with the vertex index in one ``np.sort``, and every merge is then
checked exactly on the grid nodes, so a hash collision can never join two different points.
Bodies come from ``scipy.sparse.csgraph.connected_components``.

Watertight means every edge is used by exactly two triangles, once in each direction (so
the winding is consistent); only then is a volume meaningful. Volumes are signed
(divergence theorem, summed per triangle in float64 about the bounding-box centre): a
shell wound inwards (a void inside a hollow model, or an inverted file) comes out negative;
the file's volume is the absolute value of the sum, each part's the absolute value of its
own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MM3_PER_ML = 1000.0
_CHUNK = 1 << 18  # triangles per float64 work chunk: bounds temporary memory
_GRID_PER_MM = 1e8
MAX_COORDINATE_MM = 1e9  # beyond this (1000 km) the merge grid would overflow int64
_P = (
    np.uint64(0x9E3779B185EBCA87),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
    np.uint64(0xD6E8FEB86659FD93),
)

FloatArray = npt.NDArray[np.floating]
IntArray = npt.NDArray[np.integer]


class InvalidMeshError(ValueError):
    """The mesh data cannot give figures (no triangles, NaN coordinates, bad indices)."""


@dataclass(frozen=True)
class Body:
    """One part: a connected component, or one 3MF build item with its components."""

    signed_volume_mm3: float
    area_mm2: float
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    watertight: bool
    name: str | None = None

    @property
    def size_mm(self) -> list[float]:
        """The axis-aligned box size [x, y, z]."""
        return [h - lo for lo, h in zip(self.lo, self.hi, strict=True)]

    @property
    def volume_ml(self) -> float | None:
        """The enclosed volume in mL, or None when the body is open."""
        return abs(self.signed_volume_mm3) / MM3_PER_ML if self.watertight else None


@dataclass
class MeshFigures:
    """Whole-file figures built from its bodies, in the contract's units."""

    bodies: list[Body]
    warnings: list[str] = field(default_factory=list)

    @property
    def watertight(self) -> bool:
        """True when every body is closed and consistently wound."""
        return all(b.watertight for b in self.bodies)

    @property
    def volume_ml(self) -> float | None:
        """Total enclosed volume (voids subtracted), or None when a body is open."""
        if not self.bodies or not self.watertight:
            return None
        return abs(sum(b.signed_volume_mm3 for b in self.bodies)) / MM3_PER_ML

    @property
    def area_mm2(self) -> float:
        """Total surface area."""
        return sum(b.area_mm2 for b in self.bodies)

    @property
    def bbox_mm(self) -> list[float] | None:
        """Size of the box around every body."""
        if not self.bodies:
            return None
        lo = np.min([b.lo for b in self.bodies], axis=0)
        hi = np.max([b.hi for b in self.bodies], axis=0)
        return [float(v) for v in hi - lo]

    def sorted_bodies(self) -> list[Body]:
        """Bodies largest first: by volume, open bodies after closed ones, then by box."""
        def key(body: Body) -> tuple[int, float, float]:
            volume = body.volume_ml
            box = float(np.prod(body.size_mm))
            return (volume is None, -(volume or 0.0), -box)

        return sorted(self.bodies, key=key)

    def all_warnings(self) -> list[str]:
        """The collected warnings plus what the bodies themselves say."""
        notes = list(self.warnings)
        open_count = sum(not b.watertight for b in self.bodies)
        if open_count:
            total = len(self.bodies)
            what = "mesh is" if total == 1 else f"{open_count} of {total} parts are"
            notes.append(f"{what} not watertight (open edges or inconsistent winding): "
                         "volume left unknown")
        elif len(self.bodies) > 1:
            signs = {np.sign(b.signed_volume_mm3) for b in self.bodies if b.signed_volume_mm3}
            if len(signs) > 1:
                notes.append("some shells are wound inwards (voids or inverted parts): "
                             "the total volume subtracts them")
        return notes


# -- vertex merge --------------------------------------------------------------------------


def merge_vertices(vertices: FloatArray) -> tuple[npt.NDArray[np.int32], FloatArray]:
    """Merge coincident points. Returns (inverse, unique) with ``unique[inverse] ~ vertices``.

    Points coincide when they fall on the same node of a 1e-8 mm grid (as trimesh merges):
    CAD noise such as ``-2.7e-16`` against ``0.0`` joins, while anything a float32 file can
    tell apart at model scale stays apart. Each unique point keeps its first coordinates.
    """
    count = len(vertices)
    if count == 0:
        return np.zeros(0, np.int32), np.zeros((0, 3), np.float64)
    index_bits = max(1, int(count - 1).bit_length())
    mask = np.uint64((1 << index_bits) - 1)
    keys = np.empty(count, np.uint64)
    step = _CHUNK
    for start in range(0, count, step):
        grid = _grid(vertices[start:start + step])
        h = _mix(grid[:, 0])
        h = _mix(h ^ grid[:, 1])
        h = _mix(h ^ grid[:, 2])
        h &= ~mask  # the high bits keep the hash, the low bits carry the vertex index
        h |= np.arange(start, start + len(grid), dtype=np.uint64)
        keys[start:start + len(grid)] = h
    keys.sort()  # one in-place sort (SIMD) instead of an argsort
    order = np.empty(count, np.int32)
    same = np.empty(count - 1, bool)
    shift = np.uint64(index_bits)
    for start in range(0, count, step):
        block = keys[start:start + step + 1]
        order[start:start + len(block)] = block & mask
        hashes = block >> shift
        same[start:start + len(block) - 1] = hashes[1:] == hashes[:-1]
    del keys
    # Equal hashes must be equal grid nodes: check every merge exactly (bit-equal
    # coordinates first, the grid only where they differ), in sorted order, by blocks.
    equal = np.ones(count - 1, bool)
    for start in range(0, count - 1, step):
        stop = min(start + step, count - 1)
        rows = vertices[order[start:stop + 1]]
        raw = (rows[1:] == rows[:-1]).all(axis=1)
        odd = np.flatnonzero(same[start:stop] & ~raw)
        if len(odd):
            raw[odd] = (_grid(rows[odd + 1]) == _grid(rows[odd])).all(axis=1)
        equal[start:stop] = raw | ~same[start:stop]
    group = np.empty(count, np.int32)
    group[0] = 0
    np.cumsum(~same, out=group[1:])
    del same
    if not equal.all():
        group = _resolve_collisions(vertices, order, group, ~equal)
    del equal
    firsts = np.empty(int(group.max()) + 1, np.int64)
    firsts[group[::-1]] = order[::-1]
    inverse = np.empty(count, np.int32)
    inverse[order] = group
    del group, order
    unique = vertices[firsts].astype(np.float64)
    return inverse, unique


def _grid(block: FloatArray) -> npt.NDArray[np.uint64]:
    """Coordinates as integer nodes of the merge grid, viewed as uint64 for hashing."""
    nodes = np.rint(block.astype(np.float64) * _GRID_PER_MM).astype(np.int64)
    return nodes.view(np.uint64)


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """A 64-bit finaliser (xor-shift-multiply): every input bit reaches every output bit."""
    h = h ^ (h >> np.uint64(31))
    h *= _P[0]
    h ^= h >> np.uint64(29)
    h *= _P[1]
    h ^= h >> np.uint64(32)
    return h


def _resolve_collisions(
    vertices: FloatArray,
    order: npt.NDArray[np.int32],
    group: npt.NDArray[np.int32],
    mismatch: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int32]:
    """Split hash groups that hold different points (a hash collision: rare)."""
    bad = np.unique(group[1:][mismatch])
    members = np.isin(group, bad)
    rows = np.ascontiguousarray(_grid(vertices[order[members]]))
    rows_void = rows.view(np.dtype((np.void, rows.dtype.itemsize * 3))).ravel()
    _, sub = np.unique(rows_void, return_inverse=True)
    fixed = group.astype(np.int64)
    fixed[members] = int(group[-1]) + 1 + sub.ravel()
    _, compact = np.unique(fixed, return_inverse=True)
    return compact.ravel().astype(np.int32)


# -- bodies --------------------------------------------------------------------------------


def prepare(vertices: FloatArray, faces: IntArray | None) -> tuple[FloatArray, IntArray]:
    """Check the data and merge coincident vertices: (unique points, faces into them)."""
    vertices = np.ascontiguousarray(vertices)
    if vertices.dtype not in (np.float32, np.float64):
        vertices = vertices.astype(np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise InvalidMeshError("vertices are not 3D points")
    if faces is None:
        if len(vertices) % 3:
            raise InvalidMeshError("triangle list is not a multiple of three points")
    else:
        faces = np.asarray(faces)
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise InvalidMeshError("faces are not triangles")
        if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise InvalidMeshError("a face refers to a vertex that does not exist")
    if (faces is None and len(vertices) == 0) or (faces is not None and len(faces) == 0):
        raise InvalidMeshError("no triangles")
    for start in range(0, len(vertices), _CHUNK * 4):
        if not np.isfinite(vertices[start:start + _CHUNK * 4]).all():
            raise InvalidMeshError("NaN or infinite vertex coordinates")
    if len(vertices) and np.abs(vertices).max() > MAX_COORDINATE_MM:
        raise InvalidMeshError("vertex coordinates beyond 1000 km: not a printable model")
    inverse, unique = merge_vertices(vertices)
    merged = inverse.reshape(-1, 3) if faces is None else inverse[faces]
    return unique, merged


def split_bodies(vertices: FloatArray, faces: IntArray | None) -> MeshFigures:
    """Figures of a mesh whose parts are its connected components (STL, OBJ, PLY, ...)."""
    points, tris = prepare(vertices, faces)
    return split_prepared(points, tris)


def split_prepared(points: FloatArray, tris: IntArray) -> MeshFigures:
    """:func:`split_bodies` after :func:`prepare`; lets a caller free its raw data first."""
    return _figures(points, tris, split=True, name=None)


def whole_body(
    vertices: FloatArray, faces: IntArray, *, name: str | None = None, mirrored: bool = False
) -> MeshFigures:
    """Figures of a mesh that counts as one part whatever its shells (a 3MF build item).

    ``mirrored`` says the placement flips handedness, which reverses the winding; the
    signed volume is turned back so that voids still subtract.
    """
    points, tris = prepare(vertices, faces)
    figures = _figures(points, tris, split=False, name=name)
    if mirrored:
        figures.bodies = [_flip(b) for b in figures.bodies]
    return figures


def _flip(body: Body) -> Body:
    return Body(-body.signed_volume_mm3, body.area_mm2, body.lo, body.hi, body.watertight,
                body.name)


def _figures(points: FloatArray, tris: IntArray, *, split: bool, name: str | None) -> MeshFigures:
    warnings: list[str] = []
    a, b, c = tris[:, 0], tris[:, 1], tris[:, 2]
    degenerate = (a == b) | (b == c) | (a == c)
    if degenerate.any():
        count = int(degenerate.sum())
        warnings.append(f"{count} degenerate triangle(s) (repeated corner) ignored")
        tris = tris[~degenerate]
        if len(tris) == 0:
            raise InvalidMeshError("every triangle is degenerate")
    centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
    local = points - centre  # about the centre: float64 products keep their precision
    if split:
        labels, count = _components(len(points), tris)
    else:
        labels, count = np.zeros(len(points), np.int32), 1
    face_label = labels[tris[:, 0]]
    volume, area = _volume_area(local, tris, face_label, count)
    closed = _closed_components(tris, face_label, count, len(points))
    lo, hi = _component_boxes(points, tris, labels, count)
    bodies = [
        Body(float(volume[i]), float(area[i]), _triple(lo[i]), _triple(hi[i]), bool(closed[i]),
             name)
        for i in range(count)
    ]
    return MeshFigures(bodies, warnings)


def _triple(row: FloatArray) -> tuple[float, float, float]:
    return (float(row[0]), float(row[1]), float(row[2]))


def _components(vertex_count: int, tris: IntArray) -> tuple[npt.NDArray[np.int32], int]:
    """Component label per used vertex, numbered 0..count-1 over components with faces."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows = np.concatenate([tris[:, 0], tris[:, 1]])
    cols = np.concatenate([tris[:, 1], tris[:, 2]])
    graph = coo_matrix((np.ones(len(rows), np.int8), (rows, cols)),
                       shape=(vertex_count, vertex_count)).tocsr()
    del rows, cols
    _, labels = connected_components(graph, directed=False)
    used = np.unique(labels[tris[:, 0]])  # isolated unused vertices are not bodies
    remap = np.full(int(labels.max()) + 1, -1, np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    return remap[labels], len(used)


def _volume_area(
    local: FloatArray, tris: IntArray, face_label: IntArray, count: int
) -> tuple[FloatArray, FloatArray]:
    volume = np.zeros(count)
    area = np.zeros(count)
    for start in range(0, len(tris), _CHUNK):
        t = tris[start:start + _CHUNK]
        a, b, c = local[t[:, 0]], local[t[:, 1]], local[t[:, 2]]
        cross = np.cross(b - a, c - a)
        six_vol = np.einsum("ij,ij->i", a, np.cross(b, c))
        twice_area = np.sqrt(np.einsum("ij,ij->i", cross, cross))
        labels = face_label[start:start + _CHUNK]
        volume += np.bincount(labels, six_vol, minlength=count)
        area += np.bincount(labels, twice_area, minlength=count)
    return volume / 6.0, area / 2.0


def _closed_components(
    tris: IntArray, face_label: IntArray, count: int, vertex_count: int
) -> npt.NDArray[np.bool_]:
    """Per component: every directed edge used once and its reverse used once."""
    forward = _edge_keys(tris, vertex_count, reverse=False)
    backward = _edge_keys(tris, vertex_count, reverse=True)
    forward.sort()
    backward.sort()
    if np.array_equal(forward, backward) and not (forward[1:] == forward[:-1]).any():
        return np.ones(count, bool)
    # Slow path (open or badly wound meshes only): find the faces of bad edges.
    unique, counts = np.unique(forward, return_counts=True)
    forward = _edge_keys(tris, vertex_count, reverse=False)
    backward = _edge_keys(tris, vertex_count, reverse=True)
    pos = np.searchsorted(unique, forward)
    single = counts[pos] == 1
    rev_pos = np.clip(np.searchsorted(unique, backward), 0, len(unique) - 1)
    has_reverse = unique[rev_pos] == backward
    reverse_single = np.where(has_reverse, counts[rev_pos] == 1, False)
    good_edge = single & has_reverse & reverse_single
    bad_face = ~good_edge.reshape(3, -1).all(axis=0)
    closed = np.ones(count, bool)
    closed[np.unique(face_label[bad_face])] = False
    return closed


def _edge_keys(tris: IntArray, vertex_count: int, *, reverse: bool) -> npt.NDArray[np.int64]:
    """Directed edges a->b of every face as ``a * n + b`` (``b * n + a`` when reversed)."""
    n = np.int64(vertex_count)
    faces = len(tris)
    keys = np.empty(3 * faces, np.int64)
    for k in range(3):
        a, b = tris[:, k], tris[:, (k + 1) % 3]
        if reverse:
            a, b = b, a
        out = keys[k * faces:(k + 1) * faces]
        np.multiply(a, n, out=out)
        out += b
    return keys


def _component_boxes(
    points: FloatArray, tris: IntArray, labels: IntArray, count: int
) -> tuple[FloatArray, FloatArray]:
    used = np.zeros(len(points), bool)
    used[tris.ravel()] = True
    idx = np.flatnonzero(used)
    lab = labels[idx]
    order = np.argsort(lab, kind="stable")
    idx, lab = idx[order], lab[order]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    pts = points[idx]
    lo = np.minimum.reduceat(pts, starts, axis=0)
    hi = np.maximum.reduceat(pts, starts, axis=0)
    if len(starts) != count:
        raise InvalidMeshError("internal: component boxes do not match components")
    return lo, hi


def combine(figures: Sequence[MeshFigures]) -> MeshFigures:
    """One file's figures from several pieces (3MF build items, glTF primitives)."""
    bodies: list[Body] = []
    warnings: list[str] = []
    for item in figures:
        bodies.extend(item.bodies)
        warnings.extend(w for w in item.warnings if w not in warnings)
    return MeshFigures(bodies, warnings)
