"""Mesh figures with plain numpy: vertex merge, bodies, volume, area, bounding box, watertight.

Every mesh connector turns its file into ``vertices`` (``(N, 3)`` floats, millimetres) and
``faces`` (``(F, 3)`` vertex indices, or ``None`` for a triangle soup such as STL, where
every three rows of ``vertices`` are one triangle) and calls :func:`split_bodies` (a body
is a connected component after merging coincident vertices) or :func:`whole_body` (one
3MF build item is one part, whatever its shells).

Vertices merge when their raw coordinates are equal, after values within 1e-8 mm of zero
are snapped to zero (so ``-0.0``, ``0.0`` and CAD noise such as ``-2.7e-16`` join): a
64-bit hash of the coordinate bits is sorted together with the vertex index in one
``np.sort``, and every merge is then checked exactly on the coordinates, so a hash
collision can never join two different points.
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
SNAP_MM = 1e-8
"""Coordinates closer to zero than this are zero when vertices merge (CAD noise)."""
MAX_COORDINATE_MM = 1e9  # 1000 km: not a model
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

    Points coincide when their coordinates are equal after values within 1e-8 mm of zero
    are snapped to zero (CAD noise such as ``-2.7e-16`` against ``0.0``, and ``-0.0``).
    Each unique point keeps the coordinates of its first occurrence.
    """
    count = len(vertices)
    if count == 0:
        return np.zeros(0, np.int32), np.zeros((0, 3), np.float64)
    index_bits = max(1, int(count - 1).bit_length())
    mask = np.uint64((1 << index_bits) - 1)
    keys = np.empty(count, np.uint64)
    step = _CHUNK
    for start in range(0, count, step):
        h = _hash(vertices[start:start + step])
        h &= ~mask  # the high bits keep the hash, the low bits carry the vertex index
        h |= np.arange(start, start + len(h), dtype=np.uint64)
        keys[start:start + len(h)] = h
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
    group = np.empty(count, np.int32)
    group[0] = 0
    np.cumsum(~same, out=group[1:])
    del same
    inverse = np.empty(count, np.int32)
    inverse[order] = group
    firsts = np.empty(int(group[-1]) + 1, np.int64)
    firsts[group[::-1]] = order[::-1]
    del group, order
    # Equal hashes must be equal points: every vertex is checked exactly against the first
    # point of its group, in file order (neighbouring triangles share points: cache-friendly).
    reps = _snapped(vertices[firsts])
    bad: list[npt.NDArray[np.int32]] = []
    for start in range(0, count, step):
        rows = _snapped(vertices[start:start + step])
        ids = inverse[start:start + step]
        eq = reps[ids] == rows
        wrong = ~(eq[:, 0] & eq[:, 1] & eq[:, 2])  # by column: an axis-1 .all() is slow
        if wrong.any():
            bad.append(ids[wrong])
    if bad:
        inverse = _resolve_collisions(vertices, inverse, np.unique(np.concatenate(bad)))
        firsts = np.empty(int(inverse.max()) + 1, np.int64)
        firsts[inverse[::-1]] = np.arange(count - 1, -1, -1)
    unique = vertices[firsts].astype(np.float64)
    return inverse, unique


def _snapped(block: FloatArray) -> FloatArray:
    """A copy with near-zero values (and -0.0) set to +0.0, so that they compare equal."""
    out = np.array(block, copy=True)
    out[np.abs(out) < SNAP_MM] = 0.0
    out += 0.0  # -0.0 + 0.0 is +0.0
    return out


_SNAP_BITS32 = np.float32(SNAP_MM).view(np.uint32)
_SNAP_BITS64 = np.float64(SNAP_MM).view(np.uint64)


def _hash(block: FloatArray) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each row's coordinate bits, near-zero values (and -0.0) as +0.0.

    The snap works on the bits: a float's magnitude orders like its bits without the sign.
    """
    if block.dtype == np.float32:
        bits = block.view(np.uint32)
        bits = np.where((bits & np.uint32(0x7FFFFFFF)) < _SNAP_BITS32, np.uint32(0), bits)
        xy = (bits[:, 0].astype(np.uint64) << np.uint64(32)) | bits[:, 1]
        return _mix(xy * _P[2] + bits[:, 2] * _P[3])
    wide = block.view(np.uint64)
    wide = np.where((wide & np.uint64(0x7FFFFFFFFFFFFFFF)) < _SNAP_BITS64, np.uint64(0), wide)
    return _mix(wide[:, 0] * _P[2] + wide[:, 1] * _P[3] + _mix(wide[:, 2]))


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """A 64-bit finaliser (xor-shift-multiply): every input bit reaches every output bit."""
    h = h ^ (h >> np.uint64(31))
    h *= _P[0]
    h ^= h >> np.uint64(29)
    h *= _P[1]
    h ^= h >> np.uint64(32)
    return h


def _resolve_collisions(
    vertices: FloatArray, inverse: npt.NDArray[np.int32], bad: npt.NDArray[np.int32]
) -> npt.NDArray[np.int32]:
    """Split hash groups that hold different points (a hash collision: rare)."""
    members = np.isin(inverse, bad)
    rows = np.ascontiguousarray(_snapped(vertices[members]))
    rows_void = rows.view(np.dtype((np.void, rows.dtype.itemsize * 3))).ravel()
    _, sub = np.unique(rows_void, return_inverse=True)
    fixed = inverse.astype(np.int64)
    fixed[members] = int(inverse.max()) + 1 + sub.ravel()
    _, compact = np.unique(fixed, return_inverse=True)
    return compact.ravel().astype(np.int32)


# -- bodies --------------------------------------------------------------------------------


Measures = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
"""Per triangle: six times its signed volume about the centre, and twice its area."""


def prepare(vertices: FloatArray, faces: IntArray | None) -> tuple[FloatArray, IntArray, Measures]:
    """Check the data, measure every triangle, and merge coincident vertices.

    Returns (unique points, faces into them, per-triangle measures). For a triangle list
    the measures are taken from the raw corners in file order (no gathers), before the
    merge, so that a caller may free the corners as soon as this returns.
    """
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
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    for start in range(0, len(vertices), _CHUNK * 4):
        block = vertices[start:start + _CHUNK * 4]
        # per column: a reduction over axis 0 of an (N, 3) array is many times slower
        lo = np.minimum(lo, [block[:, k].min() for k in range(3)])
        hi = np.maximum(hi, [block[:, k].max() for k in range(3)])
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):  # min/max carry NaN and inf
        raise InvalidMeshError("NaN or infinite vertex coordinates")
    if max(np.abs(lo).max(), np.abs(hi).max()) > MAX_COORDINATE_MM:
        raise InvalidMeshError("vertex coordinates beyond 1000 km: not a printable model")
    centre = (lo + hi) / 2.0  # measured about the centre: float64 products keep precision
    if faces is None:
        measures = _measures(vertices, None, centre)
    inverse, unique = merge_vertices(vertices)
    if faces is None:
        return unique, inverse.reshape(-1, 3), measures
    merged = inverse[faces]
    return unique, merged, _measures(unique, merged, centre)


def _measures(points: FloatArray, tris: IntArray | None, centre: FloatArray) -> Measures:
    """Six times the signed volume and twice the area of every triangle, by blocks."""
    count = len(points) // 3 if tris is None else len(tris)
    six_vol = np.empty(count)
    twice_area = np.empty(count)
    for start in range(0, count, _CHUNK):
        stop = min(start + _CHUNK, count)
        if tris is None:
            corners = points[3 * start:3 * stop].reshape(-1, 3, 3) - centre
            a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
        else:
            t = tris[start:stop]
            a, b, c = points[t[:, 0]] - centre, points[t[:, 1]] - centre, points[t[:, 2]] - centre
        cross = np.cross(b - a, c - a)
        six_vol[start:stop] = np.einsum("ij,ij->i", a, cross)  # a.(b x c) = a.((b-a) x (c-a))
        twice_area[start:stop] = np.sqrt(np.einsum("ij,ij->i", cross, cross))
    return six_vol, twice_area


def split_bodies(vertices: FloatArray, faces: IntArray | None) -> MeshFigures:
    """Figures of a mesh whose parts are its connected components (STL, OBJ, PLY, ...)."""
    return split_prepared(*prepare(vertices, faces))


def split_prepared(points: FloatArray, tris: IntArray, measures: Measures) -> MeshFigures:
    """:func:`split_bodies` after :func:`prepare`; lets a caller free its raw data first."""
    return _figures(points, tris, measures, split=True, name=None)


def whole_body(
    vertices: FloatArray, faces: IntArray, *, name: str | None = None, mirrored: bool = False,
    split: bool = False,
) -> MeshFigures:
    """Figures of one placed mesh (a 3MF build item), named ``name``.

    With ``split`` each separate shell is a body of its own (``part_count`` counts bodies,
    as for STL); without it the mesh counts as one part whatever its shells.
    ``mirrored`` says the placement flips handedness, which reverses the winding; the
    signed volume is turned back so that voids still subtract.
    """
    points, tris, measures = prepare(vertices, faces)
    figures = _figures(points, tris, measures, split=split, name=name)
    if mirrored:
        figures.bodies = [_flip(b) for b in figures.bodies]
    return figures


def _flip(body: Body) -> Body:
    return Body(-body.signed_volume_mm3, body.area_mm2, body.lo, body.hi, body.watertight,
                body.name)


def _figures(
    points: FloatArray, tris: IntArray, measures: Measures, *, split: bool, name: str | None
) -> MeshFigures:
    warnings: list[str] = []
    six_vol, twice_area = measures
    a, b, c = tris[:, 0], tris[:, 1], tris[:, 2]
    degenerate = (a == b) | (b == c) | (a == c)
    if degenerate.any():
        count = int(degenerate.sum())
        warnings.append(f"{count} degenerate triangle(s) (repeated corner) ignored")
        keep = ~degenerate
        tris, six_vol, twice_area = tris[keep], six_vol[keep], twice_area[keep]
        if len(tris) == 0:
            raise InvalidMeshError("every triangle is degenerate")
    if split:
        labels, count = _components(len(points), tris)
    else:
        labels, count = np.zeros(len(points), np.int32), 1
    face_label = labels[tris[:, 0]]
    volume = np.bincount(face_label, six_vol, minlength=count) / 6.0
    area = np.bincount(face_label, twice_area, minlength=count) / 2.0
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
    # isolated unused vertices are not bodies
    used = np.flatnonzero(np.bincount(labels[tris[:, 0]], minlength=int(labels.max()) + 1))
    remap = np.full(int(labels.max()) + 1, -1, np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    return remap[labels], len(used)


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
    lo = np.stack([np.minimum.reduceat(pts[:, k], starts) for k in range(3)], axis=1)
    hi = np.stack([np.maximum.reduceat(pts[:, k], starts) for k in range(3)], axis=1)
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
