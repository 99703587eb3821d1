"""One DICOM file's header, read through the PHI allow-list and reduced to safe facts.

:func:`read_facts` parses only :data:`printharvest.phi.READ_TAGS` (pydicom ``dcmread`` with
``stop_before_pixels`` and ``specific_tags``), from the probe's head when the header fits
in it. Identifiers are hashed at once with the home's salt and every identifying value
(birth date, study date, contrast agent text, patient ID) is turned into a number, a flag or
a hash before the function returns; the returned :class:`HeaderFacts` holds nothing else.
Errors name the file and, at most, a tag keyword.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import phi
from ..exceptions import CorruptFileError
from .dicom_structure import check_lengths, looks_like_dicom, sniff

# pydicom's warnings and log lines can quote element values (an invalid UID, a name): they
# must never reach a handler the lab configures, so the pydicom logger stays local.
logging.getLogger("pydicom").propagate = False

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
MESH_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.104.3": "model/stl",
    "1.2.840.10008.5.1.4.1.1.104.4": "model/obj",
    "1.2.840.10008.5.1.4.1.1.104.5": "model/mtl",
}
MESH_MIME_TYPES = {"model/stl", "model/x.stl-binary", "model/x.stl-ascii", "application/sla",
                   "model/obj", "model/mtl"}
NON_IMAGE_MODALITIES = frozenset({"SR", "PR", "KO", "SEG", "REG", "RTSTRUCT", "RTPLAN",
                                  "RTDOSE", "RTRECORD", "DOC", "M3D", "FID", "PLAN", "AU",
                                  "RWV", "REGISTRATION"})
"""Objects that sit in a study but are not an imaging series of their own."""

_CONTRAST_TEXT = ("ContrastBolusAgent", "ContrastBolusRoute", "ContrastBolusVolume",
                  "ContrastBolusIngredient")


@dataclass(frozen=True)
class HeaderFacts:
    """What one file contributes, with every identifier already hashed or derived."""

    kind: str
    """``image``, ``dicomdir``, ``mesh`` or ``other`` (an SR, SEG, PR... in the study)."""
    study: str | None
    series: str | None
    patient: str | None
    modality: str | None
    slice_thickness_mm: float | None
    manufacturer: str | None
    contrast: bool | None
    age_years: int | None
    sex: str | None
    mime: str | None = None


def read_facts(path: Path, head: bytes, size: int, shown: str, salt: bytes) -> HeaderFacts:
    """Facts of one file; CorruptFileError with a one-line reason when it is not readable."""
    if looks_like_dicom(head) <= 0.0:
        other = sniff(head)
        reason = f"not a DICOM file ({other})" if other else "not a DICOM file"
        raise CorruptFileError(shown, reason)
    check_lengths(head, size, path, shown)
    ds = _parse(path, head, size, shown)
    facts = _facts(ds, salt)
    if facts.kind == "image" and not (facts.modality or facts.study or facts.series):
        # A DICM magic over nothing (or over garbage) must not become a record of nulls.
        raise CorruptFileError(shown, "DICOM file holds no Modality, StudyInstanceUID or"
                                      " SeriesInstanceUID")
    return facts


def _parse(path: Path, head: bytes, size: int, shown: str) -> Any:
    from pydicom import config, dcmread
    from pydicom.errors import InvalidDicomError

    config.settings.reading_validation_mode = config.IGNORE
    source: Any = io.BytesIO(head) if len(head) >= size else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if source is None:
                with path.open("rb") as fh:
                    return dcmread(fh, stop_before_pixels=True, force=True,
                                   specific_tags=list(phi.READ_TAGS))
            return dcmread(source, stop_before_pixels=True, force=True,
                           specific_tags=list(phi.READ_TAGS))
    except (InvalidDicomError, EOFError, OSError) as exc:
        raise CorruptFileError(shown, f"not readable DICOM ({type(exc).__name__})") from exc
    except Exception as exc:  # pydicom raises many types on garbage; never echo their text
        raise CorruptFileError(shown, f"not readable DICOM ({type(exc).__name__})") from exc


def _text(ds: Any, keyword: str) -> str | None:
    """An element's value as stripped text, or None; errors in odd values count as absent."""
    try:
        value = ds.get(keyword)
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = "\\".join(str(v) for v in value)
    text = str(value).strip().strip("\x00").strip()
    return text or None


def _facts(ds: Any, salt: bytes) -> HeaderFacts:
    sop_class = _text(getattr(ds, "file_meta", {}), "MediaStorageSOPClassUID") or \
        _text(ds, "SOPClassUID")
    modality = (_text(ds, "Modality") or "").upper() or None
    mime = (_text(ds, "MIMETypeOfEncapsulatedDocument") or "").lower() or None
    if sop_class == DICOMDIR_SOP_CLASS:
        kind = "dicomdir"
    elif sop_class in MESH_SOP_CLASSES or (mime in MESH_MIME_TYPES):
        kind = "mesh"
        mime = mime or MESH_SOP_CLASSES.get(sop_class or "")
    elif modality in NON_IMAGE_MODALITIES:
        kind = "other"
    else:
        kind = "image"
    return HeaderFacts(
        kind=kind,
        study=_hashed(ds, "StudyInstanceUID", salt),
        series=_hashed(ds, "SeriesInstanceUID", salt),
        patient=_hashed(ds, "PatientID", salt),
        modality=modality,
        slice_thickness_mm=_thickness(ds),
        manufacturer=_text(ds, "Manufacturer"),
        contrast=_contrast(ds),
        age_years=_age(ds),
        sex=phi.sex_code(_text(ds, "PatientSex")),
        mime=mime,
    )


def _hashed(ds: Any, keyword: str, salt: bytes) -> str | None:
    value = _text(ds, keyword)
    return phi.salted_hash(salt, value) if value else None


def _thickness(ds: Any) -> float | None:
    text = _text(ds, "SliceThickness")
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < 1000 else None


def _contrast(ds: Any) -> bool | None:
    """True when any contrast/bolus attribute has a value; False when present but all empty."""
    present = False
    for keyword in _CONTRAST_TEXT:
        if keyword in ds:
            present = True
            if _text(ds, keyword):
                return True
    if "ContrastBolusAgentSequence" in ds:
        present = True
        try:
            if len(ds.ContrastBolusAgentSequence) > 0:
                return True
        except Exception:
            return True
    return False if present else None


def _age(ds: Any) -> int | None:
    age = phi.age_from_dicom(_text(ds, "PatientAge"))
    if age is not None:
        return age
    birth = phi.parse_da(_text(ds, "PatientBirthDate"))
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate"):
        on = phi.parse_da(_text(ds, keyword))
        if on is not None:
            return phi.age_between(birth, on)
    return None
