"""Tables from CSV and XLSX files: the rows of a job log, read leniently.

CSV: UTF-8 with or without BOM (or the map's encoding), CRLF / LF / CR line ends, ``,`` ``;``
tab or ``|`` delimiters (sniffed from the header line), quoted fields with embedded
delimiters, quotes and line breaks. XLSX: read with openpyxl in read-only mode, values only
(cached formula results), one sheet.

Detection uses :func:`csv_rows_from_head` / :func:`xlsx_sheets_from_head` on the probe's
head only; harvest reads the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 20
"""A header may sit below a title block; it is looked for in the first rows."""
csv.field_size_limit(1 << 20)


@dataclass
class Sheet:
    """One table: its name (XLSX sheet, or ``""`` for CSV) and its rows of cell values."""

    name: str
    rows: list[list[Any]]


def decode(data: bytes, encoding: str) -> str:
    """Bytes to text; a UTF-8 BOM is dropped, and UTF-16 with a BOM is recognised."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    return data.decode(encoding)


def looks_binary(data: bytes) -> bool:
    """True when the start of ``data`` holds NUL bytes (not a text table)."""
    sample = data[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return b"\x00" in sample


def sniff_delimiter(first_line: str, wanted: str = "auto") -> str:
    """The delimiter of a header line: the one giving the most fields (``,`` on a tie)."""
    if wanted != "auto":
        return wanted
    best, best_count = ",", 1
    for delimiter in DELIMITERS:
        try:
            fields = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(fields) > best_count:
            best, best_count = delimiter, len(fields)
    return best


def csv_rows(text: str, delimiter: str, limit: int | None = None) -> list[list[Any]]:
    """Parse CSV text into rows (at most ``limit`` rows); a bad quote ends the table."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[Any]] = []
    try:
        for row in reader:
            rows.append([cell.replace("\r", "") for cell in row])
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error:
        pass  # keep what was read; the connector warns about a short table
    return rows


def csv_head_candidates(head: bytes, encoding: str, delimiter: str) -> list[list[str]]:
    """The first rows of a CSV from the probe's head, for detection (never raises)."""
    if looks_binary(head):
        return []
    try:
        text = decode(head[:65536], encoding)
    except (UnicodeDecodeError, LookupError):
        text = head[:65536].decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        return []
    first = next((line for line in lines if line.strip()), "")
    chosen = sniff_delimiter(first, delimiter)
    return csv_rows("\n".join(lines[:HEADER_SEARCH_ROWS]), chosen, HEADER_SEARCH_ROWS)


def xlsx_sheets(data: bytes | io.BytesIO, row_limit: int | None = None) -> Iterator[Sheet]:
    """Every sheet of a workbook with its cell values (raises on an unreadable workbook)."""
    import openpyxl

    source = data if isinstance(data, io.BytesIO) else io.BytesIO(data)
    workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    try:
        for worksheet in workbook.worksheets:
            rows: list[list[Any]] = []
            for row in worksheet.iter_rows(values_only=True):
                rows.append(list(row))
                if row_limit is not None and len(rows) >= row_limit:
                    break
            yield Sheet(str(worksheet.title), rows)
    finally:
        workbook.close()


def is_xlsx(zip_members: tuple[str, ...] | None) -> bool:
    """True when a zip's member list is that of an Excel workbook."""
    return zip_members is not None and "xl/workbook.xml" in zip_members
