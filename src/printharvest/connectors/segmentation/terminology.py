"""Standard terminology of segments: codes as ``SCHEME:CODE`` strings, from either source.

3D Slicer keeps a segment's terminology in one ``TerminologyEntry`` string (category, type,
type modifier, anatomic region and its modifier, each ``SCHEME^CODE^meaning``); DICOM SEG and
RT Structure Sets keep the same five as code sequences. Only scheme and code are kept: the
meaning is display text a tool may localise, and the code already says it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from printharvest.vocab import TERMINOLOGY_KEYS

_SCHEME = re.compile(r"^[A-Za-z0-9_\-.]{1,16}$")
_CODE = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")
_SLICER_KEYS = {"category": "category", "type": "type", "typeModifier": "type_modifier",
                "anatomicRegion": "region", "anatomicRegionModifier": "region_modifier"}


def code_string(scheme: str | None, code: str | None) -> str | None:
    """``SCHEME:CODE`` (scheme upper-cased), or None when either part is empty or odd.

    Odd text (spaces, long strings) is refused rather than kept: a code field is no place for
    free text, and free text could be identifying.
    """
    scheme = (scheme or "").strip()
    code = (code or "").strip()
    if not scheme or not code or not _SCHEME.match(scheme) or not _CODE.match(code):
        return None
    return f"{scheme.upper()}:{code}"


def slicer_terminology(entry: Mapping[str, object]) -> dict[str, str]:
    """Codes of one slicerio terminology dict (``category``: ``[scheme, code, meaning]``...)."""
    found: dict[str, str] = {}
    for slicer_key, key in _SLICER_KEYS.items():
        triple = entry.get(slicer_key)
        if isinstance(triple, list | tuple) and len(triple) >= 2:
            code = code_string(str(triple[0]), str(triple[1]))
            if code is not None:
                found[key] = code
    return found


def ordered(codes: Mapping[str, str]) -> dict[str, str]:
    """The codes in the contract's key order (stable JSON)."""
    return {key: codes[key] for key in TERMINOLOGY_KEYS if key in codes}


def first_code(items: Iterable[object]) -> str | None:
    """``SCHEME:CODE`` of the first item of a DICOM code sequence that has one."""
    for item in items:
        code = code_string(getattr(item, "CodingSchemeDesignator", None),
                           getattr(item, "CodeValue", None)
                           or getattr(item, "LongCodeValue", None)
                           or getattr(item, "URNCodeValue", None))
        if code is not None:
            return code
    return None
