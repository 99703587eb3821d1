"""The DICOM byte structure, checked without reading any value: magic, encoding, lengths.

pydicom, asked to stop before the pixel data and to keep only a few tags, seeks over the
elements it skips and so never notices an element whose length runs past the end of the
file, or pixel data cut short. This walker follows every top-level element's length (and
the items of undefined-length sequences and encapsulated pixel data) from tag headers alone,
so a broken or truncated file is refused with the offending tag, never a value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from printharvest.exceptions import CorruptFileError

DICM_OFFSET = 128
UNDEFINED = 0xFFFFFFFF
LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR",
                      b"UT", b"SV", b"UV"})
VALID_VRS = LONG_VRS | {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS",
                        b"LO", b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL",
                        b"US"}
ITEM, ITEM_END, SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = ("1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.8.1")
MAX_STEPS = 1_000_000
"""A hostile file of millions of tiny elements is refused rather than walked forever."""
MAX_DEPTH = 32
"""Sequences nested deeper than this are refused (real files nest a handful of levels)."""

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"), (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"), (b"%PDF", "PDF document"), (b"PK\x03\x04", "zip archive"),
    (b"II*\x00", "TIFF image"), (b"MM\x00*", "TIFF image"), (b"BM", "BMP image"),
)


@dataclass(frozen=True)
class Layout:
    """Where a file's data set starts and how it is encoded."""

    has_preamble: bool
    dataset_offset: int
    explicit: bool
    little: bool
    transfer_syntax: str | None


def sniff(head: bytes) -> str | None:
    """The name of a well-known non-DICOM format that ``head`` starts with, if any."""
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    return None


def looks_like_dicom(head: bytes) -> float:
    """How much ``head`` looks like DICOM: 1.0 with the DICM magic, lower without preamble."""
    if len(head) >= DICM_OFFSET + 4 and head[DICM_OFFSET:DICM_OFFSET + 4] == b"DICM":
        return 1.0
    if len(head) < 12 or sniff(head):
        return 0.0
    group, element = struct.unpack_from("<HH", head, 0)
    if group not in (0x0002, 0x0008) or element > 0x0200:
        return 0.7 if _big_endian_start(head) else 0.0
    if head[4:6] in VALID_VRS:
        return 0.8  # explicit VR little endian without preamble
    if _big_endian_start(head):
        return 0.7  # explicit VR big endian without preamble (old ACR-NEMA style exports)
    (length,) = struct.unpack_from("<I", head, 4)
    return 0.7 if length < 1024 or length == UNDEFINED else 0.0


def _big_endian_start(head: bytes) -> bool:
    """A data set that starts with a group 0008 element in explicit VR big endian."""
    if len(head) < 8:
        return False
    group, element = struct.unpack_from(">HH", head, 0)
    return group == 0x0008 and element <= 0x0200 and head[4:6] in VALID_VRS


class _Reader:
    """Random access to a file's bytes: from the probe's head, else from disk."""

    def __init__(self, head: bytes, size: int, path: Path) -> None:
        self.head = head
        self.size = size
        self.path = path
        self._fh: object | None = None

    def read(self, offset: int, count: int) -> bytes:
        if offset + count <= len(self.head) or len(self.head) >= self.size:
            return self.head[offset:offset + count]
        if self._fh is None:
            self._fh = self.path.open("rb")
        fh = self._fh
        fh.seek(offset)  # type: ignore[attr-defined]
        data: bytes = fh.read(count)  # type: ignore[attr-defined]
        return data

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()  # type: ignore[attr-defined]


def layout(head: bytes, shown: str) -> Layout:
    """Find the data set after the preamble and the file meta group."""
    preamble = head[DICM_OFFSET:DICM_OFFSET + 4] == b"DICM"
    offset = DICM_OFFSET + 4 if preamble else 0
    syntax: str | None = None
    # The file meta group (0002,xxxx) is always explicit VR little endian.
    while offset + 8 <= len(head) and struct.unpack_from("<H", head, offset)[0] == 0x0002:
        element = struct.unpack_from("<H", head, offset + 2)[0]
        vr = head[offset + 4:offset + 6]
        if vr not in VALID_VRS:
            raise CorruptFileError(shown, "DICOM file meta information is malformed")
        if vr in LONG_VRS:
            (length,) = struct.unpack_from("<I", head, offset + 8)
            start = offset + 12
        else:
            (length,) = struct.unpack_from("<H", head, offset + 6)
            start = offset + 8
        if length == UNDEFINED or start + length > len(head):
            raise CorruptFileError(shown, "DICOM file meta information runs past the end")
        if element == 0x0010:
            syntax = head[start:start + length].rstrip(b"\x00 ").decode("ascii", "replace")
        offset = start + length
    if syntax is None:
        if _big_endian_start(head[offset:]):
            return Layout(preamble, offset, True, False, EXPLICIT_BE)
        explicit = len(head) >= offset + 6 and head[offset + 4:offset + 6] in VALID_VRS
        return Layout(preamble, offset, explicit, True, None)
    return Layout(preamble, offset, syntax != IMPLICIT_LE, syntax != EXPLICIT_BE, syntax)


def check_lengths(head: bytes, size: int, path: Path, shown: str) -> Layout:
    """Walk every element's length; CorruptFileError naming the tag if one runs past the end."""
    found = layout(head, shown)
    if found.transfer_syntax in DEFLATED:
        return found  # the data set is zlib-compressed: lengths are checked by the parser
    reader = _Reader(head, size, path)
    try:
        _walk(reader, found.dataset_offset, size, found, shown, nested=False, steps=[0])
    finally:
        reader.close()
    return found


def _walk(reader: _Reader, offset: int, end: int, enc: Layout, shown: str, *,
          nested: bool, steps: list[int], depth: int = 0) -> int:
    """Follow elements from ``offset`` to ``end`` (or an item delimiter); return where it ends."""
    order = "<" if enc.little else ">"
    tag_and_short = struct.Struct(order + "HH2sH")
    long_length = struct.Struct(order + "I")
    head = reader.head
    while offset < end:
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise CorruptFileError(shown, "DICOM data set has too many elements")
        # Fast path: the header lies in the probe's head (no slice copies).
        header = head if offset + 12 <= len(head) else reader.read(offset, 12)
        at = offset if header is head else 0
        if len(header) - at < 8:
            raise CorruptFileError(shown, "truncated DICOM: an element header is cut off")
        group, element, vr, short = tag_and_short.unpack_from(header, at)
        tag = (group << 16) | element
        if group == 0xFFFE:
            if nested and tag == ITEM_END:
                return offset + 8
            raise CorruptFileError(shown, f"unexpected delimiter at {_tag(tag)}")
        if enc.explicit and vr in VALID_VRS:
            if vr in LONG_VRS:
                if len(header) - at < 12:
                    raise CorruptFileError(shown, "truncated DICOM: an element header is cut off")
                (length,) = long_length.unpack_from(header, at + 8)
                start = offset + 12
            else:
                length = short
                start = offset + 8
        else:
            # Implicit VR, or an explicit-VR file where a writer left one element implicit
            # (pydicom reads those the same way): a 4-byte length follows the tag.
            (length,) = long_length.unpack_from(header, at + 4)
            start = offset + 8
        if length == UNDEFINED:
            if depth >= MAX_DEPTH:
                raise CorruptFileError(shown, "DICOM sequences are nested too deeply")
            offset = _skip_items(reader, start, end, enc, shown, steps, tag, depth + 1)
            continue
        if start + length > end:
            what = "pixel data" if tag == PIXEL_DATA else f"element {_tag(tag)}"
            raise CorruptFileError(shown, f"DICOM {what} runs past the end of the file")
        offset = start + length
    if nested:
        raise CorruptFileError(shown, "truncated DICOM: a sequence item is not closed")
    return offset


def _skip_items(reader: _Reader, offset: int, end: int, enc: Layout, shown: str,
                steps: list[int], owner: int, depth: int) -> int:
    """Skip the items of an undefined-length sequence or encapsulated pixel data."""
    order = "<" if enc.little else ">"
    while True:
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise CorruptFileError(shown, "DICOM data set has too many elements")
        header = reader.read(offset, 8)
        if len(header) < 8:
            raise CorruptFileError(shown, f"truncated DICOM: {_tag(owner)} is cut off")
        group, element, length = struct.unpack_from(order + "HHI", header, 0)
        tag = (group << 16) | element
        if tag == SEQ_END:
            return offset + 8
        if tag != ITEM:
            raise CorruptFileError(shown, f"DICOM {_tag(owner)} holds a malformed item")
        if length == UNDEFINED:
            offset = _walk(reader, offset + 8, end, enc, shown, nested=True, steps=steps,
                           depth=depth)
        elif offset + 8 + length > end:
            raise CorruptFileError(shown, f"DICOM {_tag(owner)} runs past the end of the file")
        else:
            offset += 8 + length


def _tag(tag: int) -> str:
    """A tag as ``(gggg,eeee)`` plus its keyword when pydicom knows it (never a value)."""
    from pydicom.datadict import keyword_for_tag

    text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    keyword = keyword_for_tag(tag) if tag >> 16 != 0xFFFE else ""
    return f"{text} {keyword}".strip()
