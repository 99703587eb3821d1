"""3D Slicer color tables (``.ctbl``/``.txt`` and ``.csv``): the segment names of a label map.

A label map volume (``.nrrd``, ``.nii.gz``) holds only label values in its voxels; what each
value means lives in the color table saved beside it. Label 0 is the background. Each other
label is one segment. Two forms exist:

* the discrete text table: a header line ``# Color table file ...``, more ``#`` lines, then
  one line per label: value, name (spaces written as underscores), red, green, blue, opacity
  (0-255); names only, no codes;
* the CSV table recent Slicer versions save by default (``vtkMRMLColorTableStorageNode``
  ``WriteCsvFile``): a header row ``LabelValue,Name,Color_R,Color_G,Color_B,Color_A`` and the
  fifteen terminology columns ``Category_``/``Type_``/``TypeModifier_``/``Region_``/
  ``RegionModifier_`` + ``CodingScheme``/``CodeValue``/``CodeMeaning``. Slicer's writer quotes
  every header and text cell (VTK's delimited text writer with its string delimiter on); hand
  written tables (Slicer's own documentation example) do not. Names keep their spaces. The
  codes become the same ``SCHEME:CODE`` terminology the ``.seg.nrrd`` reader gives.

Detection of the CSV form needs the real header (``LabelValue`` and the three colour columns,
the columns Slicer's writer always writes): a job-log CSV or any other table is left alone.
"""

from __future__ import annotations

import csv
import io

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.segmentation.slicer import SLICER
from printharvest.connectors.segmentation.terminology import code_string, ordered
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Segment, Software

MAGIC = b"# Color table file"
MAX_BYTES = 8 << 20
MAX_LABELS = 10_000
MAX_HEADER_BYTES = 8 << 10
"""The CSV header row must end within this: Slicer's own (21 quoted columns) is ~450 bytes."""
CSV_REQUIRED = ("LabelValue", "Color_R", "Color_G", "Color_B")
CSV_COLORS = ("Color_R", "Color_G", "Color_B", "Color_A")
CSV_TERMINOLOGY = {"Category": "category", "Type": "type", "TypeModifier": "type_modifier",
                   "Region": "region", "RegionModifier": "region_modifier"}
"""Column prefix (``<prefix>_CodingScheme``, ``<prefix>_CodeValue``) to the terminology key."""


def csv_header(head: bytes) -> tuple[str, list[str]] | None:
    """The delimiter and column names of a Slicer CSV color table's header row, else None.

    Only the first line of ``head`` (up to :data:`MAX_HEADER_BYTES`) is looked at. Slicer
    writes ``.csv`` with commas and reads ``.tsv`` with tabs; both are accepted.
    """
    end = head.find(b"\n", 0, MAX_HEADER_BYTES)
    line = head[:end] if end >= 0 else head[:MAX_HEADER_BYTES]
    if end < 0 and len(head) > MAX_HEADER_BYTES:
        return None
    if b"\x00" in line:
        return None
    text = line.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r")
    for delimiter in (",", "\t"):
        try:
            names = next(csv.reader([text], delimiter=delimiter), [])
        except csv.Error:
            continue
        names = [name.strip() for name in names]
        if all(column in names for column in CSV_REQUIRED):
            return delimiter, names
    return None


class SlicerColorTableConnector(FileConnector):
    """3D Slicer discrete color tables: one segment per label of a label map."""

    id = "slicer-ctbl"
    label = "3D Slicer color table (label map segment names)"
    version = "1.1"
    patterns = ("*.ctbl", "*.txt", "*.csv", "*.tsv")

    def detect(self, probe: FileProbe) -> float:
        """Slicer's color table header line, or the CSV table's header row."""
        head = probe.head.lstrip(b"\xef\xbb\xbf")
        if head.startswith(MAGIC):
            return 0.9
        return 0.9 if csv_header(probe.head) is not None else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One ``segmentation`` record with a segment per non-background label."""
        header = csv_header(probe.head)
        text = probe.read_all(MAX_BYTES).decode("utf-8", "replace").lstrip("\ufeff")
        warnings_: list[str] = []
        if header is not None and not text.startswith(MAGIC.decode()):
            segments = _csv_segments(text, header[0], probe.display_path, warnings_)
        else:
            segments = _ctbl_segments(text, probe.display_path)
        segments.sort(key=lambda item: item[0])
        found = [segment for _, segment in segments]
        if not found:
            warnings_.append("color table has no labels besides the background")
        return [self.new_record(probe, "segmentation", part_count=len(found) or None,
                                segments=found, software=Software(name=SLICER),
                                warnings=warnings_)]


def _ctbl_segments(text: str, shown: str) -> list[tuple[int, Segment]]:
    """(label, segment) of a discrete text table; a malformed line is a one-line error."""
    segments: list[tuple[int, Segment]] = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) < 5:
            raise CorruptFileError(shown, f"color table line {number} has {len(fields)} fields")
        try:
            value = int(fields[0])
            [int(v) for v in fields[2:6]]
        except ValueError as exc:
            raise CorruptFileError(shown, f"color table line {number} "
                                          "is not label, name, R G B A") from exc
        if value == 0:
            continue  # the background
        segments.append((value, Segment(name=fields[1].replace("_", " "))))
        if len(segments) > MAX_LABELS:
            raise CorruptFileError(shown, f"more than {MAX_LABELS} labels")
    return segments


def _csv_segments(text: str, delimiter: str, shown: str,
                  warnings_: list[str]) -> list[tuple[int, Segment]]:
    """(label, segment) of a CSV table, read the way Slicer's reader reads it.

    As in Slicer, a row without a whole, non-negative label value is left out (with a
    warning) and a colour that is not a whole number refuses the file; a label given twice
    keeps its last row. Cell text never goes into a warning or an error: it is local text.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    by_label: dict[int, Segment] = {}
    try:
        columns = {name.strip(): i for i, name in enumerate(next(reader, []))}
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue

            def cell(column: str, row: list[str] = row) -> str:
                index = columns.get(column)
                return row[index].strip() if index is not None and index < len(row) else ""

            try:
                value = int(cell("LabelValue"))
            except ValueError:
                value = -1
            if value < 0:
                warnings_.append(f"color table line {number} has no valid label value; "
                                 "left out")
                continue
            for column in CSV_COLORS:
                if column in columns:
                    try:
                        int(cell(column))
                    except ValueError as exc:
                        raise CorruptFileError(shown, f"color table line {number}: {column} "
                                                      "is not a whole number") from exc
            if value == 0:
                continue  # the background
            codes = {key: code for prefix, key in CSV_TERMINOLOGY.items()
                     if (code := code_string(cell(f"{prefix}_CodingScheme"),
                                             cell(f"{prefix}_CodeValue"))) is not None}
            by_label[value] = Segment(name=cell("Name") or None, terminology=ordered(codes))
            if len(by_label) > MAX_LABELS:
                raise CorruptFileError(shown, f"more than {MAX_LABELS} labels")
    except csv.Error as exc:
        raise CorruptFileError(shown, f"color table is not readable CSV (line "
                                      f"{reader.line_num})") from exc
    return list(by_label.items())
