"""Stanford PLY, ASCII and binary (little or big endian). Taken as millimetres.

The header declares elements in file order, each with scalar properties and list
properties. Scalar-only elements are read with one ``np.frombuffer`` of a structured
dtype; the face element is read the same way when every face is a triangle (the common
case, checked), else record by record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from printharvest.connectors.mesh.base import (
    MAX_MESH_BYTES,
    MAX_TRIANGLES,
    MeshConnector,
    fail,
    guarded,
)
from printharvest.connectors.mesh.geometry import MeshFigures, split_bodies
from printharvest.connectors.mesh.polygons import triangles_from_counts
from printharvest.connectors.probe import FileProbe

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
_FACE_LISTS = ("vertex_indices", "vertex_index")


@dataclass
class Element:
    """One header ``element``: its count and properties (name, type, list count type)."""

    name: str
    count: int
    props: list[tuple[str, str, str | None]] = field(default_factory=list)


class PlyConnector(MeshConnector):
    """PLY meshes (vertex x/y/z and face vertex_indices; other elements skipped)."""

    id = "ply"
    label = "PLY mesh (ASCII and binary)"
    version = "1.0"
    patterns = ("*.ply",)

    def detect(self, probe: FileProbe) -> float:
        """``ply`` then a ``format`` line."""
        if probe.head[:4] in (b"ply\n", b"ply\r") and b"format" in probe.head[:128]:
            return 0.9
        return 0.0

    def figures(self, probe: FileProbe) -> MeshFigures:
        """Parse header and body, then the shared geometry."""
        data = probe.read_all(MAX_MESH_BYTES)
        vertices, faces = guarded(probe, "PLY content cannot be read",
                                  lambda: parse_ply(probe, data))
        return split_bodies(vertices, faces)


def parse_header(probe: FileProbe, data: bytes) -> tuple[str, list[Element], int]:
    """The format, the elements and the offset of the body."""
    end = data.find(b"end_header", 0, 1 << 16)
    if end < 0:
        raise fail(probe, "PLY header has no end_header")
    body = data.find(b"\n", end) + 1
    fmt = ""
    elements: list[Element] = []
    for raw in data[:end].decode("ascii", "replace").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            fmt = words[1]
        elif words[0] == "element":
            count = int(words[2])
            if count < 0 or count > 3 * MAX_TRIANGLES:
                raise fail(probe, f"PLY element {words[1]} count {count} is not plausible")
            elements.append(Element(words[1], count))
        elif words[0] == "property" and elements:
            if words[1] == "list":
                elements[-1].props.append((words[4], _TYPES[words[3]], _TYPES[words[2]]))
            else:
                elements[-1].props.append((words[2], _TYPES[words[1]], None))
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise fail(probe, f"PLY format {fmt or '(none)'} is not supported")
    return fmt, elements, body


def parse_ply(probe: FileProbe, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(N, 3)`` and triangles ``(F, 3)``."""
    fmt, elements, pos = parse_header(probe, data)
    names = [e.name for e in elements]
    if "vertex" not in names or "face" not in names:
        raise fail(probe, "PLY has no vertex or no face element")
    if fmt == "ascii":
        return _ascii_body(probe, data[pos:], elements)
    order = "<" if fmt == "binary_little_endian" else ">"
    vertices = faces = None
    for element in elements:
        if element.name == "vertex":
            vertices, pos = _scalar_block(probe, data, pos, element, order)
        elif element.name == "face":
            faces, pos = _face_block(probe, data, pos, element, order)
        elif all(kind is None for _, _, kind in element.props):
            _, pos = _scalar_block(probe, data, pos, element, order)
        else:
            pos = _skip_list_block(probe, data, pos, element, order)
    assert vertices is not None and faces is not None
    return vertices, faces


def _dtype(element: Element, order: str) -> np.dtype:
    return np.dtype([(name, order + kind) for name, kind, _ in element.props])


def _scalar_block(
    probe: FileProbe, data: bytes, pos: int, element: Element, order: str
) -> tuple[np.ndarray, int]:
    if any(count is not None for _, _, count in element.props):
        raise fail(probe, f"PLY {element.name} element has a list property")
    dtype = _dtype(element, order)
    end = pos + dtype.itemsize * element.count
    if end > len(data):
        raise fail(probe, f"PLY truncated in the {element.name} element")
    table = np.frombuffer(data, dtype=dtype, count=element.count, offset=pos)
    if element.name != "vertex":
        return table, end
    try:
        xyz = np.stack([table["x"], table["y"], table["z"]], axis=1).astype(np.float64)
    except ValueError as exc:
        raise fail(probe, "PLY vertex element lacks x, y or z") from exc
    return xyz, end


def _face_block(
    probe: FileProbe, data: bytes, pos: int, element: Element, order: str
) -> tuple[np.ndarray, int]:
    props = element.props
    if len(props) == 1 and props[0][0] in _FACE_LISTS and props[0][2] is not None:
        count_type, index_type = props[0][2], props[0][1]
        dtype = np.dtype([("n", order + count_type), ("v", order + index_type, (3,))])
        end = pos + dtype.itemsize * element.count
        if end <= len(data):
            table = np.frombuffer(data, dtype=dtype, count=element.count, offset=pos)
            if (table["n"] == 3).all():
                return table["v"].astype(np.int64), end
    counts, flat, end = _read_lists(probe, data, pos, element, order, want=_FACE_LISTS)
    return triangles_from_counts(counts, flat), end


def _skip_list_block(
    probe: FileProbe, data: bytes, pos: int, element: Element, order: str
) -> int:
    return _read_lists(probe, data, pos, element, order, want=())[2]


def _read_lists(
    probe: FileProbe, data: bytes, pos: int, element: Element, order: str,
    want: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray, int]:
    """Record-by-record reading of an element with list properties (general case)."""
    counts: list[int] = []
    flat: list[int] = []
    view = memoryview(data)
    for _ in range(element.count):
        for name, kind, count_kind in element.props:
            if count_kind is None:
                pos += np.dtype(kind).itemsize
                continue
            size = np.dtype(count_kind).itemsize
            if pos + size > len(data):
                raise fail(probe, f"PLY truncated in the {element.name} element")
            k = int(np.frombuffer(view[pos:pos + size], order + count_kind)[0])
            pos += size
            width = np.dtype(kind).itemsize * k
            if pos + width > len(data):
                raise fail(probe, f"PLY truncated in the {element.name} element")
            if name in want:
                counts.append(k)
                flat.extend(np.frombuffer(view[pos:pos + width], order + kind).tolist())
            pos += width
    return np.array(counts, np.int64), np.array(flat, np.int64), pos


def _ascii_body(
    probe: FileProbe, body: bytes, elements: list[Element]
) -> tuple[np.ndarray, np.ndarray]:
    lines = body.splitlines()
    row = 0
    vertices = faces = None
    for element in elements:
        block = lines[row:row + element.count]
        if len(block) < element.count:
            raise fail(probe, f"PLY truncated in the {element.name} element")
        row += element.count
        if element.name == "vertex":
            names = [name for name, _, _ in element.props]
            try:
                cols = [names.index(axis) for axis in ("x", "y", "z")]
            except ValueError as exc:
                raise fail(probe, "PLY vertex element lacks x, y or z") from exc
            table = [ln.split() for ln in block]
            vertices = np.array([[t[c] for c in cols] for t in table], dtype=np.float64)
        elif element.name == "face":
            if element.props[0][0] not in _FACE_LISTS:
                raise fail(probe, "PLY face element does not start with vertex_indices")
            counts = []
            flat: list[int] = []
            for ln in block:
                words = ln.split()
                k = int(words[0])
                if len(words) < k + 1:
                    raise fail(probe, "PLY face line has fewer indices than it declares")
                counts.append(k)
                flat.extend(int(w) for w in words[1:k + 1])
            faces = triangles_from_counts(np.array(counts), np.array(flat, np.int64))
    assert vertices is not None and faces is not None
    return vertices.reshape(-1, 3), faces
