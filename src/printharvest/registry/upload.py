"""Batch upload files: pipe-delimited text (CRLF) and Excel workbooks with plain values.

Both are split into several files rather than exceed the registry's size limit. Every file's
bytes pass :func:`printharvest.privacy.egress.release` before they are written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook

from printharvest.privacy.egress import EgressGuard, release
from printharvest.registry.layout import Cell

FORMULA_START = ("=", "+", "-", "@")
"""A text cell starting with one of these is read as a formula by spreadsheet programs."""

_BREAKS = re.compile(r"[\r\n\t\v\f\x00-\x08\x0b-\x1f\x7f]+")


@dataclass
class UploadFile:
    """One file's worth of bytes, the rows (case indices) it holds."""

    data: bytes
    rows: list[int] = field(default_factory=list)


def text_cell(value: Cell) -> str:
    """A cell as pipe-delimited text: no pipes, no line breaks, no formula start."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return formula_safe(_BREAKS.sub(" ", value).replace("|", "/").strip())


def formula_safe(text: str) -> str:
    """``text`` that a spreadsheet shows as text: a leading formula character is quoted."""
    return "'" + text if text.startswith(FORMULA_START) else text


def psv_files(header: Sequence[str] | None, rows: Sequence[Sequence[Cell]], limit: int,
              guard: EgressGuard) -> tuple[list[UploadFile], list[str]]:
    """Pipe-delimited files (CRLF, one record a line), each at most ``limit`` bytes."""
    head = ("|".join(text_cell(h) for h in header) + "\r\n").encode() if header else b""
    files: list[UploadFile] = []
    warnings: list[str] = []
    current = UploadFile(head)
    for index, row in enumerate(rows):
        line = ("|".join(text_cell(c) for c in row) + "\r\n").encode("utf-8")
        if len(head) + len(line) > limit:
            raise _too_big(index, len(head) + len(line), limit)
        if current.rows and len(current.data) + len(line) > limit:
            files.append(current)
            current = UploadFile(head)
        current.data += line
        current.rows.append(index)
    files.append(current)
    if len(files) > 1:
        warnings.append(f"the upload would exceed {limit} bytes: split into {len(files)} files")
    for number, upload in enumerate(files, 1):
        release(upload.data, guard, f"upload file {number}")
    return files, warnings


def xlsx_bytes(header: Sequence[str] | None, rows: Sequence[Sequence[Cell]]) -> bytes:
    """One workbook of plain values: text cells are stored as text, never as formulas."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "cases"
    lines: list[Sequence[Cell]] = ([list(header)] if header else []) + list(rows)
    for r, row in enumerate(lines, 1):
        for c, value in enumerate(row, 1):
            if value is None:
                continue
            target = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                target.value = _BREAKS.sub(" ", value)
                target.data_type = "s"  # never "f": a leading "=" stays text
                if value.startswith(FORMULA_START):
                    target.quotePrefix = True
            else:
                target.value = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_files(header: Sequence[str] | None, rows: Sequence[Sequence[Cell]], limit: int,
               guard: EgressGuard) -> tuple[list[UploadFile], list[str]]:
    """Workbooks, each at most ``limit`` bytes (rows are halved until each part fits)."""
    pending: list[list[int]] = [list(range(len(rows)))]
    done: list[UploadFile] = []
    while pending:
        chunk = pending.pop(0)
        data = xlsx_bytes(header, [rows[i] for i in chunk])
        if len(data) <= limit:
            done.append(UploadFile(data, chunk))
        elif len(chunk) == 1:
            raise _too_big(chunk[0], len(data), limit)
        else:
            middle = len(chunk) // 2
            pending[:0] = [chunk[:middle], chunk[middle:]]
    warnings = ([f"the upload would exceed {limit} bytes: split into {len(done)} files"]
                if len(done) > 1 else [])
    for number, upload in enumerate(done, 1):
        release(upload.data, guard, f"upload file {number}")
    return done, warnings


def _too_big(index: int, size: int, limit: int) -> Exception:
    from printharvest.exceptions import RegistryError

    return RegistryError(f"case number {index + 1} of the export alone takes {size} bytes, "
                         f"more than the {limit}-byte limit")
