"""3D Slicer color tables (``.ctbl``/``.txt``): the segment names of a label map.

A label map volume (``.nrrd``, ``.nii.gz``) holds only label values in its voxels; what each
value means lives in the color table saved beside it. The discrete format is text: a header
line ``# Color table file ...``, more ``#`` lines, then one line per label: value, name (spaces
written as underscores), red, green, blue, opacity (0-255). Label 0 is the background. Each
other label is one segment (no terminology codes in this format: names only).
"""

from __future__ import annotations

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.segmentation.slicer import SLICER
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Segment, Software

MAGIC = b"# Color table file"
MAX_BYTES = 8 << 20
MAX_LABELS = 10_000


class SlicerColorTableConnector(FileConnector):
    """3D Slicer discrete color tables: one segment per label of a label map."""

    id = "slicer-ctbl"
    label = "3D Slicer color table (label map segment names)"
    version = "1.0"
    patterns = ("*.ctbl", "*.txt")

    def detect(self, probe: FileProbe) -> float:
        """Slicer's color table header line."""
        return 0.9 if probe.head.lstrip(b"\xef\xbb\xbf").startswith(MAGIC) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One ``segmentation`` record with a segment per non-background label."""
        text = probe.read_all(MAX_BYTES).decode("utf-8", "replace")
        segments: list[tuple[int, Segment]] = []
        for number, line in enumerate(text.splitlines(), 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) < 5:
                raise CorruptFileError(probe.display_path,
                                       f"color table line {number} has {len(fields)} fields")
            try:
                value = int(fields[0])
                [int(v) for v in fields[2:6]]
            except ValueError as exc:
                raise CorruptFileError(probe.display_path, f"color table line {number} "
                                                           "is not label, name, R G B A") from exc
            if value == 0:
                continue  # the background
            segments.append((value, Segment(name=fields[1].replace("_", " "))))
            if len(segments) > MAX_LABELS:
                raise CorruptFileError(probe.display_path, f"more than {MAX_LABELS} labels")
        segments.sort(key=lambda item: item[0])
        found = [segment for _, segment in segments]
        warnings_ = [] if found else ["color table has no labels besides the background"]
        return [self.new_record(probe, "segmentation", part_count=len(found) or None,
                                segments=found, software=Software(name=SLICER),
                                warnings=warnings_)]
