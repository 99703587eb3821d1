"""Generic CSV/XLSX job-log connector driven by YAML column maps (``rules/joblogs/*.yaml``).

Detection scores the table's header against every map (required columns all present, then
the share of mapped columns present), from the probe's head only. Harvest reads the whole
table, picks the best-fitting map (and sheet, and header row), and makes one ``print``
record per job row; ``source.index`` is the row's position below the header (0-based,
blank rows counted so that an index always points at the same line).

A cell that cannot be read, or holds an absurd value, becomes a warning on that row's record
and the field stays unknown; a table no map fits is a one-line error. See
:mod:`printharvest.connectors.joblog.maps` for the map format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.joblog.maps import (
    ColumnMap,
    ColumnSpec,
    LoadedMap,
    load_maps,
    normalise_header,
)
from printharvest.connectors.joblog.rows import row_record
from printharvest.connectors.joblog.tables import (
    HEADER_SEARCH_ROWS,
    Sheet,
    csv_head_candidates,
    csv_rows,
    decode,
    is_xlsx,
    looks_binary,
    sniff_delimiter,
    xlsx_sheets,
)
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord

MAX_TABLE_BYTES = 64 << 20
MAX_ROWS = 200_000


@dataclass(frozen=True)
class Fit:
    """How well one map fits one table: score, the sheet and the header row."""

    score: float
    loaded: LoadedMap
    sheet: Sheet
    header_row: int


def header_score(column_map: ColumnMap, row: list[Any]) -> float:
    """0 unless every required column is in ``row``; then 0.6 to 0.95 by mapped coverage."""
    present = {normalise_header(str(c)) for c in row if c is not None and str(c).strip()}
    required = [normalise_header(c) for c in column_map.recognise.required_columns]
    if not present or not all(r in present for r in required):
        return 0.0
    mapped = list(column_map.specs())
    covered = sum(1 for m in mapped if m in present) / len(mapped) if mapped else 1.0
    return round(0.6 + 0.35 * covered, 4)


def best_fit(maps: tuple[LoadedMap, ...], sheets: list[Sheet]) -> Fit | None:
    """The best (map, sheet, header row); ties go to the earlier map and sheet."""
    best: Fit | None = None
    for loaded in maps:
        wanted = loaded.map.recognise.sheet
        for sheet in sheets:
            if wanted is not None and sheet.name and \
                    normalise_header(sheet.name) != normalise_header(wanted):
                continue
            for i, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
                score = header_score(loaded.map, row)
                if score > 0 and (best is None or score > best.score):
                    best = Fit(score, loaded, sheet, i)
    return best


class JobLogConnector(FileConnector):
    """Printer and print-server job logs exported as CSV or XLSX, read through column maps."""

    id = "joblog"
    job_history = True
    label = "CSV/XLSX job log (column maps in rules/joblogs/)"
    version = "1.0"
    patterns = ("*.csv", "*.tsv", "*.txt", "*.xlsx")

    def detect(self, probe: FileProbe) -> float:
        """The best header score of any map on the first rows of the probe's head."""
        try:
            if probe.zip_members is None and looks_binary(probe.head):
                # Before the map lookup, which stats the rules folders: a DICOM series is
                # a thousand binary files, each scored by every connector.
                return 0.0
            maps = load_maps(self.context.rules_dir).maps
            if not maps:
                return 0.0
            if is_xlsx(probe.zip_members):
                if not probe.is_whole:
                    # Too big to open from the head: a weak claim by name; harvest checks.
                    return 0.25 if probe.lower_name.endswith(".xlsx") else 0.0
                sheets = list(xlsx_sheets(probe.head, row_limit=HEADER_SEARCH_ROWS))
            elif probe.zip_members is not None or looks_binary(probe.head):
                return 0.0
            else:
                sheets = _head_sheets(probe.head, maps)
            fit = best_fit(maps, sheets)
            return fit.score if fit is not None else 0.0
        except Exception:  # detection never raises, whatever the file holds
            return 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record per job row of the table."""
        map_set = load_maps(self.context.rules_dir)
        xlsx = is_xlsx(probe.zip_members)
        sheets = _read_xlsx(probe) if xlsx else _read_csv(probe, map_set.maps)
        fit = best_fit(map_set.maps, sheets)
        if fit is None:
            hint = f"; a column map failed to load: {map_set.problems[0]}" \
                if map_set.problems else ""
            raise CorruptFileError(probe.display_path,
                                   f"no job-log column map fits this table's header{hint}")
        return self._records(probe, fit)

    def _records(self, probe: FileProbe, fit: Fit) -> list[HarvestRecord]:
        column_map = fit.loaded.map
        header = [normalise_header(str(c)) if c is not None else "" for c in
                  fit.sheet.rows[fit.header_row]]
        while header and not header[-1]:
            header.pop()
        specs = column_map.specs()
        shown = {normalise_header(k): k for k in column_map.columns}
        columns: list[tuple[int, str, ColumnSpec]] = [
            (i, shown[name], specs[name]) for i, name in enumerate(header) if name in specs]
        records: list[HarvestRecord] = []
        body = fit.sheet.rows[fit.header_row + 1:]
        if len(body) > MAX_ROWS:
            raise CorruptFileError(probe.display_path,
                                   f"table has {len(body)} rows, more than {MAX_ROWS}")
        skips = [(header.index(normalise_header(rule.column)), rule)
                 for rule in column_map.skip_rows if normalise_header(rule.column) in header]
        skipped = 0
        for index, row in enumerate(body):
            if all(_blank(c) for c in row):
                continue
            if any(i < len(row) and rule.matches(row[i]) for i, rule in skips):
                skipped += 1  # a job still printing: it comes again, finished, later
                continue
            fields, warnings = row_record(column_map, columns, row, len(header),
                                          self.context.rules_dir)
            if fields is None:
                continue  # nothing mapped in this row (a footer or a note line)
            record = self.new_record(probe, "print", index=index, **fields)
            record.warnings.extend(warnings)
            records.append(record)
        if not records:
            if skipped:
                raise CorruptFileError(probe.display_path, f"job log holds only rows the map "
                                                           f"skips ({skipped}, skip_rows)")
            raise CorruptFileError(probe.display_path, "job log holds no job rows")
        return records


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _head_sheets(head: bytes, maps: tuple[LoadedMap, ...]) -> list[Sheet]:
    """The head parsed once per distinct (encoding, delimiter) the maps ask for."""
    seen: set[tuple[str, str]] = set()
    sheets: list[Sheet] = []
    for loaded in maps:
        key = (loaded.map.file.encoding, loaded.map.file.delimiter)
        if key in seen:
            continue
        seen.add(key)
        sheets.append(Sheet("", [list(r) for r in csv_head_candidates(head, *key)]))
    return sheets


def _read_csv(probe: FileProbe, maps: tuple[LoadedMap, ...]) -> list[Sheet]:
    data = probe.read_all(MAX_TABLE_BYTES)
    if looks_binary(data):
        raise CorruptFileError(probe.display_path, "binary data, not a CSV table")
    sheets: list[Sheet] = []
    seen: set[tuple[str, str]] = set()
    failed = False
    for loaded in maps:
        encoding, wanted = loaded.map.file.encoding, loaded.map.file.delimiter
        try:
            text = decode(data, encoding)
        except (UnicodeDecodeError, LookupError):
            failed = True
            continue
        first = next((line for line in text.splitlines() if line.strip()), "")
        delimiter = sniff_delimiter(first, wanted)
        if (encoding, delimiter) in seen:
            continue
        seen.add((encoding, delimiter))
        sheets.append(Sheet("", list(csv_rows(text, delimiter, MAX_ROWS + HEADER_SEARCH_ROWS))))
    if not sheets and failed:
        raise CorruptFileError(probe.display_path, "text is not in the encoding the maps name")
    return sheets


def _read_xlsx(probe: FileProbe) -> list[Sheet]:
    data = probe.read_all(MAX_TABLE_BYTES)
    try:
        return list(xlsx_sheets(data, row_limit=MAX_ROWS + HEADER_SEARCH_ROWS))
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise CorruptFileError(probe.display_path,
                               f"not a readable XLSX workbook ({type(exc).__name__})") from exc
