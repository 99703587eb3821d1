"""Billing units: the CPT Category III codes for 3D-printed anatomic models and guides.

0559T: anatomic model, first individually prepared and processed component;
0560T: each additional component of that model;
0561T: anatomic guide, first guide;
0562T: each additional guide.

A case's components (or guides) are its Digital Model parts (``model.part_count``), so a case
of three parts printed as an anatomic model bills one 0559T and two 0560T. The lab checks these
counts against what was billed; printharvest bills nothing.
"""

from __future__ import annotations

from typing import Literal

CptCode = Literal["0559T", "0560T", "0561T", "0562T"]
CPT_CODES: tuple[CptCode, ...] = ("0559T", "0560T", "0561T", "0562T")
_FIRST_AND_EACH: dict[str, tuple[CptCode, CptCode]] = {
    "anatomic_model": ("0559T", "0560T"),
    "anatomic_guide": ("0561T", "0562T"),
}


def cpt_units(object_type: str | None, part_count: int | None) -> dict[CptCode, int] | None:
    """The units one case counts for, or None when its type of object is not known yet.

    An unknown part count counts as one component (the first): the lab sees the case in the
    billing table and can fill in the parts.
    """
    codes = _FIRST_AND_EACH.get(object_type or "")
    if codes is None:
        return None
    first, each = codes
    parts = part_count if part_count is not None and part_count >= 1 else 1
    return {first: 1, each: parts - 1}
