"""DICOM Segmentation objects (SEG) and RT Structure Sets: segments, codes, creating software.

Both arrive from PACS, often in the same folder as the images they were drawn on. Each file
becomes one ``segmentation`` record; the DICOM imaging connector leaves them to these
connectors (:func:`segmentation_sop_class` routes them by SOP class).

Read through an allow-list of its own (:data:`SEG_READ_TAGS`), headers only
(``stop_before_pixels``: a SEG's pixel data are the masks; an RTSTRUCT's contours sit in
``ROIContourSequence``, which is not read):

* SEG: ``SegmentSequence``: ``SegmentLabel`` (local text) and the code sequences (Segmented
  Property Category / Type with its modifier, Anatomic Region with its modifier);
* RTSTRUCT: ``StructureSetROISequence`` (``ROINumber``, ``ROIName`` as local text,
  ``ROIVolume`` in cm^3 where the planning system wrote it) and ``RTROIObservationsSequence``
  (RT ROI Identification Code, Segmented Property Category, Anatomic Region codes);
* ``Manufacturer`` and ``SoftwareVersions`` of the object: the creating software, which is
  not identifying. Patient, study and series attributes (names, descriptions, UIDs) are never
  read.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.dicom.structure import check_lengths, looks_like_dicom
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.segmentation.terminology import first_code, ordered
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Segment, Software

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
SEG_READ_TAGS: tuple[str, ...] = (
    "SOPClassUID", "Modality", "Manufacturer", "SoftwareVersions", "SpecificCharacterSet",
    "SegmentSequence", "StructureSetROISequence", "RTROIObservationsSequence",
)
"""The only attributes these connectors parse (sequences with their items)."""
MAX_SEGMENTS = 10_000
_META_SOP_CLASS = re.compile(rb"\x02\x00\x02\x00UI(..)", re.DOTALL)
_VERSION = re.compile(r"\d+(?:\.\d+){0,3}")


def segmentation_sop_class(head: bytes) -> str | None:
    """The SEG or RTSTRUCT SOP class named by a Part 10 file meta, else None."""
    found = _META_SOP_CLASS.search(head[:4096])
    if found is None:
        return None
    length = int.from_bytes(found.group(1), "little")
    value = head[found.end():found.end() + length].rstrip(b"\x00 ").decode("ascii", "replace")
    return value if value in (SEG_SOP_CLASS, RTSTRUCT_SOP_CLASS) else None


class _SegmentationObjectConnector(FileConnector):
    """Shared reading of a DICOM segmentation object; subclasses name the SOP class."""

    sop_class: str = ""
    what: str = ""

    def detect(self, probe: FileProbe) -> float:
        """A DICOM file whose meta names this SOP class (above the imaging connector)."""
        if segmentation_sop_class(probe.head) != self.sop_class:
            return 0.0
        try:
            return 1.0 if looks_like_dicom(probe.head) > 0 else 0.0
        except Exception:
            return 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One ``segmentation`` record for the object."""
        shown = probe.display_path
        if looks_like_dicom(probe.head) <= 0:
            raise CorruptFileError(shown, "not a DICOM file")
        check_lengths(probe.head, probe.size, probe.path, shown)
        ds = _parse(probe, shown)
        segments = self.segments(ds)
        if len(segments) > MAX_SEGMENTS:
            raise CorruptFileError(shown, f"more than {MAX_SEGMENTS} segments")
        warnings_ = [] if segments else [f"{self.what} holds no segments"]
        return [self.new_record(probe, "segmentation", part_count=len(segments) or None,
                                segments=segments, software=_software(ds),
                                warnings=warnings_)]

    def segments(self, ds: Any) -> list[Segment]:
        """The object's segments (subclasses)."""
        raise NotImplementedError


class DicomSegConnector(_SegmentationObjectConnector):
    """DICOM Segmentation objects: segment labels and codes, and the creating software."""

    id = "dicom-seg"
    label = "DICOM Segmentation object (SEG)"
    version = "1.0"
    patterns = ("*.dcm", "*")
    sop_class = SEG_SOP_CLASS
    what = "DICOM SEG"

    def segments(self, ds: Any) -> list[Segment]:
        """One segment per ``SegmentSequence`` item, in segment-number order."""
        items = list(ds.get("SegmentSequence") or [])
        items.sort(key=lambda item: _int(item.get("SegmentNumber")) or 0)
        result: list[Segment] = []
        for item in items:
            codes = _codes(item, "SegmentedPropertyCategoryCodeSequence",
                           "SegmentedPropertyTypeCodeSequence", "AnatomicRegionSequence")
            result.append(Segment(name=_text(item.get("SegmentLabel")), terminology=codes))
        return result


class RtStructConnector(_SegmentationObjectConnector):
    """RT Structure Sets: ROI names, volumes and codes, and the creating software."""

    id = "dicom-rtstruct"
    label = "DICOM RT Structure Set (RTSTRUCT)"
    version = "1.0"
    patterns = ("*.dcm", "*")
    sop_class = RTSTRUCT_SOP_CLASS
    what = "RT Structure Set"

    def segments(self, ds: Any) -> list[Segment]:
        """One segment per ROI, with the codes of its observation where there is one."""
        observations: dict[int, Any] = {}
        for item in ds.get("RTROIObservationsSequence") or []:
            number = _int(item.get("ReferencedROINumber"))
            if number is not None:
                observations.setdefault(number, item)
        result: list[Segment] = []
        for roi in ds.get("StructureSetROISequence") or []:
            observation = observations.get(_int(roi.get("ROINumber")) or -1)
            codes = _codes(observation, "SegmentedPropertyCategoryCodeSequence",
                           "RTROIIdentificationCodeSequence", "AnatomicRegionSequence") \
                if observation is not None else {}
            result.append(Segment(name=_text(roi.get("ROIName")), terminology=codes,
                                  volume_ml=_volume(roi.get("ROIVolume"))))
        return result


def _parse(probe: FileProbe, shown: str) -> Any:
    from pydicom import config, dcmread

    config.settings.reading_validation_mode = config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if probe.is_whole:
                return dcmread(io.BytesIO(probe.head), stop_before_pixels=True, force=True,
                               specific_tags=list(SEG_READ_TAGS))
            with probe.path.open("rb") as fh:
                return dcmread(fh, stop_before_pixels=True, force=True,
                               specific_tags=list(SEG_READ_TAGS))
    except Exception as exc:  # pydicom raises many types on garbage; never echo their text
        raise CorruptFileError(shown, f"not readable DICOM ({type(exc).__name__})") from exc


def _codes(item: Any, category: str, kind: str, region: str) -> dict[str, str]:
    """The five terminology codes of one segment item (modifiers nested in their item)."""
    found: dict[str, str | None] = {}
    found["category"] = first_code(_items(item, category))
    types = _items(item, kind)
    found["type"] = first_code(types)
    found["type_modifier"] = first_code(
        m for t in types[:1] for m in _items(t, "SegmentedPropertyTypeModifierCodeSequence"))
    regions = _items(item, region)
    found["region"] = first_code(regions)
    found["region_modifier"] = first_code(
        m for r in regions[:1] for m in _items(r, "AnatomicRegionModifierSequence"))
    return ordered({k: v for k, v in found.items() if v is not None})


def _items(item: Any, keyword: str) -> list[Any]:
    try:
        value = item.get(keyword)
    except Exception:
        return []
    return list(value) if value else []


def _software(ds: Any) -> Software | None:
    maker = _text(ds.get("Manufacturer"))
    if maker is None:
        return None
    versions = ds.get("SoftwareVersions")
    values: Iterable[Any] = versions if isinstance(versions, list | tuple) else [versions]
    version = None
    for value in values:
        found = _VERSION.search(str(value or ""))
        if found:
            version = found.group(0)
            break
    return Software(name=maker[:64], version=version)


def _text(value: Any) -> str | None:
    text = str(value).strip(" \x00") if value is not None else ""
    return text or None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _volume(value: Any) -> float | None:
    try:
        volume = float(value)
    except (TypeError, ValueError):
        return None
    return round(volume, 4) if 0 < volume < 1e7 else None
