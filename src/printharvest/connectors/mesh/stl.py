"""STL, binary and ASCII, read with numpy alone. STL carries no unit: taken as millimetres.

Binary: an 80-byte header, a little-endian uint32 triangle count, then 50-byte records
(normal, three vertices, attribute word). The records are read with one ``np.frombuffer``
of a structured dtype; the stated count must match the file size, so a header claiming a
billion triangles is refused before anything is allocated.

ASCII: ``solid`` ... ``facet normal`` / ``outer loop`` / three ``vertex`` lines /
``endloop`` / ``endfacet`` ... ``endsolid``. Keyword letters are blanked in one vectorised
pass over the bytes and the numbers left are converted in one numpy call per block; the
counts of ``endfacet`` and ``vertex`` must agree with the numbers found (twelve a facet),
so a truncated or malformed facet is an error rather than a silently shifted mesh.
"""

from __future__ import annotations

import numpy as np

from printharvest.connectors.mesh.base import MAX_MESH_BYTES, MAX_TRIANGLES, MeshConnector, fail
from printharvest.connectors.mesh.geometry import MeshFigures, prepare, split_bodies, split_prepared
from printharvest.connectors.mesh.names import name_single_body, stl_solid_names
from printharvest.connectors.probe import FileProbe

HEADER = 84
RECORD = np.dtype([("normal", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])
_BLOCK = 4 << 20  # ASCII is converted in blocks: bounded temporaries that the heap reuses


class StlConnector(MeshConnector):
    """Binary and ASCII STL."""

    id = "stl"
    label = "STL mesh (binary and ASCII)"
    version = "2.0"
    patterns = ("*.stl",)

    def detect(self, probe: FileProbe) -> float:
        """Binary STL has an exact size from its triangle count; ASCII starts with 'solid'."""
        count = stated_count(probe)
        if count is not None and probe.size == HEADER + 50 * count:
            return 0.9 if count else 0.5
        if _is_ascii(probe.head):
            return 0.9
        return 0.3 if probe.matches(self.patterns) else 0.0

    def figures(self, probe: FileProbe) -> MeshFigures:
        """Triangles of either flavour, then the shared geometry."""
        count = stated_count(probe)
        if count is not None and probe.size == HEADER + 50 * count and count:
            # prepare() returns merged points: the raw corners are freed before the rest.
            return split_prepared(*prepare(read_binary(probe, count), None))
        if _is_ascii(probe.head):
            # ``solid NAME``: an exporter's part name (one mesh per segment) for one body
            return name_single_body(split_bodies(read_ascii(probe), None),
                                    stl_solid_names(probe.head))
        if count is None:
            raise fail(probe, "too short for a binary STL and not ASCII STL")
        if count == 0:
            raise fail(probe, "binary STL header says 0 triangles")
        room = (probe.size - HEADER) // 50
        if room < count:
            raise fail(probe, f"binary STL truncated: header says {count} triangles, "
                              f"the file holds {room}")
        figures = split_bodies(read_binary(probe, count), None)
        extra = probe.size - HEADER - 50 * count
        figures.warnings.append(f"{extra} byte(s) after the last triangle ignored")
        return figures


def stated_count(probe: FileProbe) -> int | None:
    """The triangle count in a binary header, or None when the file is too short."""
    if probe.size < HEADER:
        return None
    return int.from_bytes(probe.head[80:84], "little")


def _is_ascii(head: bytes) -> bool:
    text = head[:4096].lstrip().lower()
    return text.startswith(b"solid") and (b"facet" in text or b"endsolid" in text)


def read_binary(probe: FileProbe, count: int) -> np.ndarray:
    """The ``(3 * count, 3)`` float32 corners of a binary STL."""
    if count > MAX_TRIANGLES:
        raise fail(probe, f"binary STL claims {count} triangles, more than {MAX_TRIANGLES}")
    data = probe.read_all(MAX_MESH_BYTES)
    if len(data) < HEADER + 50 * count:
        raise fail(probe, "binary STL shorter than when it was probed (still being written?)")
    records = np.frombuffer(data, dtype=RECORD, count=count, offset=HEADER)
    corners = np.ascontiguousarray(records["v"]).reshape(-1, 3)
    del records, data  # the corners are a copy: the raw bytes can go before the merge
    return corners


def read_ascii(probe: FileProbe) -> np.ndarray:
    """The ``(3 * n, 3)`` float64 corners of an ASCII STL, block by block."""
    if probe.size > MAX_MESH_BYTES:
        raise fail(probe, f"file is {probe.size} bytes, more than the {MAX_MESH_BYTES} allowed")
    blocks: list[np.ndarray] = []
    carry = b""
    saw_end = False
    with probe.open() as fh:
        while True:
            chunk = fh.read(_BLOCK)
            data = carry + chunk
            if not chunk:
                saw_end = b"endsolid" in data.lower()
                if b"facet" in _strip_solid_lines(data).lower():
                    raise fail(probe, "ASCII STL truncated inside a facet")
                break
            cut = max(data.rfind(word) for word in (b"endfacet", b"ENDFACET", b"EndFacet"))
            if cut < 0:
                carry = data
                if len(carry) > 4 * _BLOCK:
                    raise fail(probe, "ASCII STL has no facets where expected")
                continue
            cut += len(b"endfacet")
            blocks.append(_parse_block(probe, data[:cut]))
            carry = data[cut:]
    if not saw_end:
        raise fail(probe, "ASCII STL truncated (no endsolid line)")
    if not blocks:
        raise fail(probe, "ASCII STL holds no facets")
    corners = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return corners.reshape(-1, 3)


def _parse_block(probe: FileProbe, block: bytes) -> np.ndarray:
    """The corner coordinates of whole facets; the counts must agree exactly."""
    text = _strip_solid_lines(block)
    facets = text.count(b"endfacet") or text.count(b"ENDFACET") or text.count(b"EndFacet")
    vertices = text.count(b"vertex") or text.count(b"VERTEX") or text.count(b"Vertex")
    if vertices != 3 * facets:
        raise fail(probe, "ASCII STL has a malformed facet (not three vertices)")
    try:
        numbers = np.fromstring(_numbers_only(text), dtype=np.float64, sep=" ")
    except ValueError as exc:
        raise fail(probe, "ASCII STL has a number that cannot be read") from exc
    if numbers.size != 12 * facets:
        if b"nan" in text.lower() or b"inf" in text.lower():
            raise fail(probe, "ASCII STL has NaN or infinite coordinates")
        raise fail(probe, "ASCII STL has a malformed facet or an unreadable number")
    rows: np.ndarray = numbers.reshape(facets, 12)[:, 3:]
    return np.ascontiguousarray(rows).reshape(-1, 3)


def _numbers_only(text: bytes) -> bytes:
    """Blank every byte that is not part of a number, in one vectorised pass.

    Keywords are letters; the only letter a number holds is its exponent ``e``/``E``, which
    always follows a digit or a point, while the ``e`` of a keyword follows a letter or a
    space. Anything else that is not a digit, sign, point or space is left in place so that
    the conversion fails on it.
    """
    raw = np.frombuffer(text, np.uint8)
    lower = raw | np.uint8(0x20)
    letter = (lower - np.uint8(ord("a"))) < 26  # uint8 arithmetic wraps: one range test
    digit_or_point = ((raw - np.uint8(ord("0"))) < 10) | (raw == ord("."))
    exponent = (lower[1:] == ord("e")) & digit_or_point[:-1]
    letter[1:] &= ~exponent
    return np.where(letter, np.uint8(32), raw).tobytes()


def _strip_solid_lines(data: bytes) -> bytes:
    """Drop ``solid NAME`` and ``endsolid NAME`` lines: a name may hold any characters."""
    if b"olid" not in data and b"OLID" not in data:
        return data
    spans: list[tuple[int, int]] = []
    for word in (b"solid", b"SOLID", b"Solid"):
        pos = 0
        while (found := data.find(word, pos)) >= 0:
            start = data.rfind(b"\n", 0, found) + 1
            end = data.find(b"\n", found)
            end = len(data) if end < 0 else end
            spans.append((start, end))
            pos = end
    if not spans:
        return data
    pieces: list[bytes] = []
    pos = 0
    for start, end in sorted(spans):
        if start >= pos:
            pieces.append(data[pos:start])
        pos = max(pos, end)
    pieces.append(data[pos:])
    return b"".join(pieces)
