"""How a case's provenance and missing fields are worded, for the terminal and the web page.

One place for the words: ``cases show`` / ``cases list`` / ``demo`` and the web page's list and
form all call these, so a label changes here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from printharvest.cases.model import Case, FieldValue
from printharvest.dictionary.elements import Dictionary

CLINICAL_LABEL = "clinical to fill"
"""Missing elements people must type (indication, effort, ...)."""
HARVESTABLE_LABEL = "harvestable missing"
"""Missing elements a machine could know but no file told (printer, parts, ...)."""


@dataclass(frozen=True)
class MissingSplit:
    """A case's missing elements: what people must type, and what a harvest could still fill."""

    clinical: list[str]
    harvestable: list[str]


def split_missing(case: Case, dictionary: Dictionary) -> MissingSplit:
    """A case's missing fields split into clinical and harvestable (dictionary order kept)."""
    clinical: list[str] = []
    harvestable: list[str] = []
    for name in case.missing:
        ref = dictionary.resolve(name)
        (harvestable if ref is not None and ref.element.harvested else clinical).append(name)
    return MissingSplit(clinical, harvestable)


def provenance_text(fv: FieldValue | None, *, show_paths: bool = True, home: str = "") -> str:
    """Where a value came from: who typed it and when, or which connector harvested it from
    which file (or, with ``show_paths`` off, which record by content hash) by which rule.

    A path inside ``home`` is shown relative to it. Paths are for the lab's own eyes: the web
    page hides them when it is served beyond this computer (``web.show_paths``).
    """
    if fv is None:
        return ""
    p = fv.provenance
    if p.origin == "user":
        return f"typed by {p.actor or 'someone'}" + (f", {local_time(p.at)}" if p.at else "")
    bits = [f"harvested by {p.connector}" if p.connector else "harvested"]
    if show_paths and p.path:
        root = home.rstrip("/")
        inside = bool(root) and p.path.startswith(root + "/")
        bits.append(p.path[len(root) + 1:] if inside else p.path)
    elif p.sha256:
        bits.append(f"record {p.sha256[:12]}" + (f" #{p.index}" if p.index else ""))
    if p.rule:
        bits.append(f"rule {p.rule}")
    return " · ".join(bits)


def local_time(stamp: str | None) -> str:
    """An ISO 8601 stamp (UTC in the store) as local time: ``3 Dec 2026 14:05``."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return f"{moment.day} {moment:%b %Y %H:%M}"
