"""Prusa binary G-code (``.bgcode``, libbgcode format version 1).

Layout (little-endian): a 10-byte file header (``GCDE``, version u32, checksum type u16:
0 none, 1 CRC32), then blocks. A block header is type u16, compression u16 and the
uncompressed size u32, plus the compressed size u32 when compression is not 0. Then the
block parameters (2 bytes of encoding; 6 bytes of format, width and height for thumbnails),
the data, and a CRC32 over header, parameters and data when the file says so.

Block types: 0 file metadata, 1 G-code, 2 slicer metadata, 3 printer metadata, 4 print
metadata, 5 thumbnail. Compression: 0 none, 1 Deflate (zlib), 2 and 3 Heatshrink. Metadata
blocks come before the first G-code block and hold ``key=value`` lines with the same keys
PrusaSlicer writes as comments in text G-code. Only the metadata is read (seeking past
thumbnails); the G-code blocks are never decompressed, so file size does not matter.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from printharvest.connectors.base import FileConnector
from printharvest.connectors.gcode.text import (
    fallback,
    named_printer,
    number,
    object_count,
    parse_duration,
    print_fields,
    slic3r_slots,
)
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError, UnsupportedFileError
from printharvest.models import HarvestRecord, Slicer

MAGIC = b"GCDE"
FILE_HEADER = struct.Struct("<4sIH")
BLOCK_HEADER = struct.Struct("<HHI")
BLOCK_NAMES = {0: "file metadata", 1: "G-code", 2: "slicer metadata", 3: "printer metadata",
               4: "print metadata", 5: "thumbnail"}
METADATA_TYPES = (0, 2, 3, 4)
GCODE_BLOCK = 1
THUMBNAIL_BLOCK = 5
HEATSHRINK = (2, 3)
MAX_METADATA_BYTES = 64 << 20
MAX_BLOCKS_BEFORE_GCODE = 1000


@dataclass
class Block:
    """One metadata block: its type and decoded ``key=value`` text (None if unreadable)."""

    kind: int
    compression: int
    text: str | None


class BgcodeConnector(FileConnector):
    """Prusa binary G-code."""

    id = "bgcode"
    label = "Prusa binary G-code (.bgcode)"
    version = "1.0"
    patterns = ("*.bgcode",)

    def detect(self, probe: FileProbe) -> float:
        """Sure on the ``GCDE`` magic with a sane version and checksum type."""
        if len(probe.head) < FILE_HEADER.size:
            return 0.0
        magic, version, checksum = FILE_HEADER.unpack_from(probe.head)
        if magic != MAGIC:
            return 0.0
        return 0.98 if version == 1 and checksum in (0, 1) else 0.5

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record from the metadata blocks."""
        with probe.open() as fh:
            blocks = read_metadata_blocks(fh, probe.size, probe.display_path)
        warnings: list[str] = []
        values: dict[str, str] = {}
        for block in blocks:
            if block.text is None:
                name = BLOCK_NAMES[block.kind]
                if block.kind in (3, 4):
                    raise UnsupportedFileError(
                        probe.display_path,
                        f"{name} block is Heatshrink-compressed, which is not supported")
                warnings.append(f"{name} block is Heatshrink-compressed: skipped")
                continue
            values.update(ini_values(block.text))
        producer = values.get("Producer", "")
        name, _, version = producer.partition(" ")
        seconds = parse_duration(values.get("estimated printing time (normal mode)", ""))
        if not any(b.kind == 4 for b in blocks):
            warnings.append("no print metadata block: estimates unknown")
        return [fallback(self.new_record(
            probe, "print",
            slicer=Slicer(name=name or "unknown", version=version or None),
            printer=named_printer(values.get("printer_model")),
            part_count=object_count(values),
            warnings=warnings,
            **print_fields(slic3r_slots(values), number(values.get("layer_height")),
                           None if seconds is None else float(seconds), warnings),
        ))]


def ini_values(text: str) -> dict[str, str]:
    """``key=value`` lines (the metadata blocks' INI encoding), CR/CRLF safe."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip()
    return values


def read_metadata_blocks(fh: BinaryIO, size: int, shown: str) -> list[Block]:
    """Walk the blocks up to the first G-code block; decode the metadata ones.

    Raises :class:`CorruptFileError` on a bad header, a block running past the end or a
    checksum mismatch in a metadata block.
    """
    header = fh.read(FILE_HEADER.size)
    if len(header) < FILE_HEADER.size:
        raise CorruptFileError(shown, "binary G-code shorter than its file header")
    magic, version, checksum_type = FILE_HEADER.unpack(header)
    if magic != MAGIC:
        raise CorruptFileError(shown, "not binary G-code (no GCDE magic)")
    if version != 1:
        raise UnsupportedFileError(shown, f"binary G-code version {version} is not supported")
    if checksum_type not in (0, 1):
        raise CorruptFileError(shown, f"unknown checksum type {checksum_type}")
    crc_size = 4 if checksum_type == 1 else 0
    offset = FILE_HEADER.size
    blocks: list[Block] = []
    budget = MAX_METADATA_BYTES
    for _ in range(MAX_BLOCKS_BEFORE_GCODE):
        if offset >= size:
            break
        raw = fh.read(BLOCK_HEADER.size)
        if len(raw) < BLOCK_HEADER.size:
            raise CorruptFileError(shown, "truncated block header")
        kind, compression, plain_size = BLOCK_HEADER.unpack(raw)
        if kind not in BLOCK_NAMES or compression > 3:
            raise CorruptFileError(shown, f"unknown block type {kind} or compression "
                                          f"{compression} at byte {offset}")
        if compression:
            extra = fh.read(4)
            if len(extra) < 4:
                raise CorruptFileError(shown, "truncated block header")
            raw += extra
            stored = struct.unpack("<I", extra)[0]
        else:
            stored = plain_size
        params_size = 6 if kind == THUMBNAIL_BLOCK else 2
        end = offset + len(raw) + params_size + stored + crc_size
        if end > size:
            raise CorruptFileError(shown, f"{BLOCK_NAMES[kind]} block runs past the end "
                                          "of the file (truncated)")
        if kind == GCODE_BLOCK:
            break  # metadata always precedes the G-code
        if kind not in METADATA_TYPES:
            fh.seek(end)
            offset = end
            continue
        budget -= stored
        if budget < 0:
            raise CorruptFileError(shown, "metadata blocks larger than allowed")
        params = fh.read(params_size)
        data = fh.read(stored)
        if crc_size:
            expected = struct.unpack("<I", fh.read(4))[0]
            if zlib.crc32(raw + params + data) != expected:
                raise CorruptFileError(shown, f"{BLOCK_NAMES[kind]} block checksum mismatch")
        blocks.append(Block(kind, compression, _decode(data, compression, plain_size, shown)))
        offset = end
    return blocks


def _decode(data: bytes, compression: int, plain_size: int, shown: str) -> str | None:
    if compression in HEATSHRINK:
        return None
    if compression == 1:
        try:
            inflater = zlib.decompressobj()
            data = inflater.decompress(data, plain_size + 1)
        except zlib.error as exc:
            raise CorruptFileError(shown, "metadata block does not inflate") from exc
    if len(data) != plain_size:
        raise CorruptFileError(shown, "metadata block size does not match its header")
    return data.decode("utf-8", errors="replace")
