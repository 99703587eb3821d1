"""One DICOM file's header, read through the PHI allow-list and reduced to safe facts.

:func:`read_facts` parses only :data:`printharvest.privacy.phi.READ_TAGS` (pydicom ``dcmread`` with
``stop_before_pixels`` and ``specific_tags``), from the probe's head when the header fits
in it. Identifiers are hashed at once with the home's salt and every identifying value
(birth date, study date, contrast agent text, patient ID) is turned into a number, a flag or
a hash before the function returns; the returned :class:`HeaderFacts` holds nothing else.
Errors name the file and, at most, a tag keyword.
"""

from __future__ import annotations

import functools
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from printharvest.connectors.dicom.structure import check_lengths, looks_like_dicom, sniff
from printharvest.exceptions import CorruptFileError
from printharvest.privacy import phi

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


@functools.cache
def _keywords() -> dict[int, str]:
    """Allow-listed tag -> keyword, from pydicom's dictionary (pydicom is imported only when
    DICOM is read: loading it costs every other command half a second)."""
    from pydicom.datadict import tag_for_keyword

    keywords: dict[int, str] = {}
    for keyword in (*phi.READ_TAGS, "SpecificCharacterSet"):
        tag = tag_for_keyword(keyword)
        if tag is not None:
            keywords[int(tag)] = keyword
    return keywords


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


_SPECIFIC: list[str] = [*phi.READ_TAGS, "SpecificCharacterSet"]


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
                                   specific_tags=_SPECIFIC)
            return dcmread(source, stop_before_pixels=True, force=True,
                           specific_tags=_SPECIFIC)
    except (InvalidDicomError, EOFError, OSError) as exc:
        raise CorruptFileError(shown, f"not readable DICOM ({type(exc).__name__})") from exc
    except Exception as exc:  # pydicom raises many types on garbage; never echo their text
        raise CorruptFileError(shown, f"not readable DICOM ({type(exc).__name__})") from exc


def _raw_values(ds: Any) -> dict[str, Any]:
    """The allow-listed elements as ``{keyword: text}`` (an SQ as its item count or True).

    Raw elements are decoded directly: the allow-list holds only string VRs and one SQ, and
    going through pydicom's value conversion costs more than the whole parse.
    """
    keywords = _keywords()
    raw = {keywords[int(e.tag)]: e for e in ds.elements() if int(e.tag) in keywords}
    encodings = charset_encodings(raw.pop("SpecificCharacterSet", None))
    values: dict[str, Any] = {}
    for keyword, element in raw.items():
        value = element.value
        if keyword == "ContrastBolusAgentSequence":
            values[keyword] = bool(value)
            continue
        if isinstance(value, bytes | bytearray):
            text = decode_text(bytes(value), encodings)
        elif value is None:
            text = ""
        else:
            text = str(value)
        values[keyword] = text.strip(" \x00\t\r\n")
    return values


def charset_encodings(element: Any) -> list[str]:
    """Python codecs for a Specific Character Set (0008,0005) element, as pydicom maps them.

    pydicom hands the element over converted (a ``str`` or a multi-value of them) or raw
    (``bytes`` with backslash-separated values), depending on how the file was read; every
    defined term pydicom knows (single-byte ``ISO_IR n``, ``ISO_IR 192``, ``GB18030``,
    ``GBK`` and the multi-valued ISO 2022 sets with an empty first value) maps to codecs.
    An unknown term falls back to the default repertoire, like pydicom itself does.
    """
    value = getattr(element, "value", None)
    if value is None:
        terms: list[str] = []
    elif isinstance(value, bytes | bytearray):
        terms = bytes(value).decode("ascii", errors="replace").split("\\")
    elif isinstance(value, str):
        terms = value.split("\\")
    else:
        terms = [str(v) for v in value]
    return list(_codecs(tuple(t.strip(" \x00") for t in terms)))


@functools.lru_cache(maxsize=64)
def _codecs(terms: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`charset_encodings` for one set of terms (a series repeats the same set)."""
    from pydicom.charset import convert_encodings

    if not any(terms):
        return ("iso8859",)
    with warnings.catch_warnings():
        # An unknown term warns (and logs) with the term in the text: that is no PHI, but
        # the pytest run treats warnings as errors and the lab has nothing to do about it.
        warnings.simplefilter("ignore")
        try:
            return tuple(convert_encodings(list(terms)))
        except (LookupError, ValueError):
            return ("iso8859",)


def decode_text(data: bytes, encodings: list[str]) -> str:
    """A string value decoded with the file's character sets (ISO 2022 escapes honoured)."""
    if data.isascii() and b"\x1b" not in data:
        # Every DICOM character set agrees on plain ASCII (an ESC starts an ISO 2022 switch).
        return data.decode("ascii")
    from pydicom.charset import decode_bytes
    from pydicom.valuerep import TEXT_VR_DELIMS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return decode_bytes(data, encodings, TEXT_VR_DELIMS)
        except (LookupError, ValueError):
            return data.decode("latin-1", errors="replace")


def _facts(ds: Any, salt: bytes) -> HeaderFacts:
    values = _raw_values(ds)

    def text(keyword: str) -> str | None:
        value = values.get(keyword)
        return value if isinstance(value, str) and value else None

    sop_class = _meta_sop_class(ds) or text("SOPClassUID")
    modality = (text("Modality") or "").upper() or None
    mime = (text("MIMETypeOfEncapsulatedDocument") or "").lower() or None
    if sop_class == DICOMDIR_SOP_CLASS:
        kind = "dicomdir"
    elif sop_class in MESH_SOP_CLASSES or (mime in MESH_MIME_TYPES):
        kind = "mesh"
        mime = mime or MESH_SOP_CLASSES.get(sop_class or "")
    elif modality in NON_IMAGE_MODALITIES:
        kind = "other"
    else:
        kind = "image"

    def hashed(keyword: str) -> str | None:
        value = text(keyword)
        return phi.salted_hash(salt, value) if value else None

    return HeaderFacts(
        kind=kind,
        study=hashed("StudyInstanceUID"),
        series=hashed("SeriesInstanceUID"),
        patient=hashed("PatientID"),
        modality=modality,
        slice_thickness_mm=_thickness(text("SliceThickness")),
        manufacturer=text("Manufacturer"),
        contrast=_contrast(values),
        age_years=_age(text),
        sex=phi.sex_code(text("PatientSex")),
        mime=mime,
    )


def _meta_sop_class(ds: Any) -> str | None:
    """MediaStorageSOPClassUID from the file meta, read raw (no value conversion)."""
    meta = ds.__dict__.get("file_meta") if hasattr(ds, "__dict__") else None
    if meta is None:
        return None
    try:
        element = meta.get_item(0x00020002)
    except Exception:
        return None
    value = getattr(element, "value", None)
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("ascii", errors="replace")
    text = str(value or "").strip("\x00 ")
    return text or None


def _thickness(text: str | None) -> float | None:
    try:
        value = float(text.split("\\")[0]) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < 1000 else None


def _contrast(values: dict[str, Any]) -> bool | None:
    """True when any contrast/bolus attribute has a value; False when present but all empty."""
    present = [k for k in (*_CONTRAST_TEXT, "ContrastBolusAgentSequence") if k in values]
    if any(values[k] for k in present):
        return True
    return False if present else None


def _age(text: Any) -> int | None:
    """PatientAge, else birth date against the study (series, acquisition) date."""
    age = phi.age_from_dicom(text("PatientAge"))
    if age is not None:
        return age
    birth = phi.parse_da(text("PatientBirthDate"))
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate"):
        on = phi.parse_da(text(keyword))
        if on is not None:
            return phi.age_between(birth, on)
    return None
