"""3D Slicer segmentations (``.seg.nrrd``): segment names and terminology from the header.

A Slicer segmentation is a NRRD file whose header carries ``SegmentN_Name``,
``SegmentN_Tags`` (with the ``TerminologyEntry``: category, type, type modifier, anatomic region
and region modifier as SNOMED CT codes) and ``Segmentation_*`` fields. Only the header is read,
through ``slicerio`` (``skip_voxels=True``, which reads it with ``pynrrd``): the voxels hold the
patient's anatomy and nothing the registry asks for.

A plain NRRD volume or label map (no segment fields) is recognised and yields no record: its
segment names, if any, live in a separate color table.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.segmentation.terminology import ordered, slicer_terminology
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Segment, Software

SLICER = "3D Slicer"
MAX_HEADER_BYTES = 1 << 20
"""A NRRD header longer than this is not a header (the probe's head is 1 MiB)."""
MAX_SEGMENTS = 10_000


def nrrd_header_end(data: bytes) -> int:
    """Where the NRRD header ends (the blank line), or -1 when it does not end in ``data``."""
    for mark in (b"\n\n", b"\r\n\r\n"):
        found = data.find(mark)
        if found >= 0:
            return found + len(mark)
    return -1


def is_slicer_header(head: bytes) -> bool:
    """A NRRD magic with Slicer's segment fields in the header."""
    if not head.startswith(b"NRRD000"):
        return False
    end = nrrd_header_end(head)
    header = head if end < 0 else head[:end]
    return b"Segment0_" in header or b"Segmentation_MasterRepresentation" in header


def read_slicer_segments(path: Path, shown: str) -> list[Segment]:
    """The segments of a Slicer segmentation header file (voxels never read).

    Raises CorruptFileError with a one-line reason when the header cannot be read.
    """
    import slicerio  # type: ignore[import-untyped]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pynrrd warns on odd but readable headers
            segmentation: dict[str, Any] = slicerio.read_segmentation(str(path),
                                                                      skip_voxels=True)
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError,
            UnicodeError) as exc:
        raise CorruptFileError(shown, f"Slicer segmentation header cannot be read "
                                      f"({type(exc).__name__})") from exc
    except Exception as exc:  # pynrrd's NRRDError and anything else the parser may raise
        raise CorruptFileError(shown, f"Slicer segmentation header cannot be read "
                                      f"({type(exc).__name__})") from exc
    raw = segmentation.get("segments") or []
    if len(raw) > MAX_SEGMENTS:
        raise CorruptFileError(shown, f"more than {MAX_SEGMENTS} segments")
    segments: list[Segment] = []
    for item in raw:
        name = item.get("name")
        terminology = item.get("terminology")
        codes = slicer_terminology(terminology) if isinstance(terminology, dict) else {}
        segments.append(Segment(name=str(name) if name else None, terminology=ordered(codes)))
    return segments


class SlicerSegmentationConnector(FileConnector):
    """3D Slicer segmentation files: segment names and standard terminology (header only)."""

    id = "slicer-seg"
    label = "3D Slicer segmentation (.seg.nrrd header)"
    version = "1.0"
    patterns = ("*.seg.nrrd", "*.nrrd", "*.nhdr")

    def detect(self, probe: FileProbe) -> float:
        """Slicer's segment fields in a NRRD header; a plain NRRD weakly (nothing to harvest)."""
        if is_slicer_header(probe.head):
            return 0.95
        if probe.head.startswith(b"NRRD000"):
            return 0.5
        return 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One ``segmentation`` record; none for a plain NRRD volume."""
        if not probe.head.startswith(b"NRRD000"):
            raise CorruptFileError(probe.display_path, "not a NRRD file (no NRRD magic)")
        if nrrd_header_end(probe.head) < 0 and not probe.is_whole:
            raise CorruptFileError(probe.display_path,
                                   f"NRRD header does not end within {MAX_HEADER_BYTES} bytes")
        if not is_slicer_header(probe.head):
            return []
        segments = read_slicer_segments(probe.path, probe.display_path)
        warnings_: list[str] = []
        if not segments:
            warnings_.append("segmentation holds no segments")
        return [self.new_record(probe, "segmentation", part_count=len(segments) or None,
                                segments=segments, software=Software(name=SLICER),
                                warnings=warnings_)]
