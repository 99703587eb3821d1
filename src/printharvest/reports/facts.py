"""Facts of one case that the lab report counts, read from the case's fields and records.

Only registry vocabulary, numbers, dates, printer labels/models and material types leave this
module: never a case key, file name, job name or free text (the report is an export).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from printharvest.cases.model import Case
from printharvest.dictionary.values import Duration
from printharvest.models import HarvestRecord
from printharvest.rules.lab import Rules

EFFORT_KINDS: tuple[str, ...] = (
    "consultation_clinician", "consultation_nonclinician",
    "segmentation_clinician", "segmentation_nonclinician",
    "cad_clinician", "cad_nonclinician",
    "postprocessing_clinician", "postprocessing_nonclinician",
)


@dataclass(frozen=True)
class PrintJob:
    """One print record as the report sees it."""

    printer: str
    material: str
    time_h: float | None
    used_g: float | None
    used_ml: float | None
    outcome: str | None


@dataclass
class CaseFacts:
    """What the report needs to know about one case."""

    id: int
    registry_id: str
    status: str
    month: str
    day: date
    organ_system: str | None
    indication: str | None
    object_type: str | None
    guide_type: str | None
    part_count: int | None
    modalities: list[str]
    technologies: list[str]
    materials: list[str]
    effort_minutes: dict[str, int | None]
    effort_states: dict[str, str]
    volume_ml: float | None
    jobs: list[PrintJob] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def duration_minutes(value: Any) -> int | None:
    """Minutes from a stored effort value; None when recorded as unknown or not entered
    (:func:`effort_state` tells the two apart)."""
    found = Duration.from_value(value)
    return None if found is None else found.total_minutes


def effort_state(value: Any) -> str:
    """``entered``, ``unknown`` (recorded as unknown) or ``missing`` (not entered)."""
    found = Duration.from_value(value)
    if found is None:
        return "missing"
    return "unknown" if found.unknown else "entered"


def case_day(case: Case) -> date:
    """The day a case counts for: its earliest print start or finish, else when it was formed."""
    stamps = [r.started_at or r.finished_at for r in case.records if r.kind == "print"]
    for stamp in sorted(s for s in stamps if s):
        try:
            return date.fromisoformat(stamp[:10])
        except ValueError:
            continue
    return date.fromisoformat(case.created_at[:10])


def material_label(record: HarvestRecord, rules: Rules) -> str:
    """A model material in the lab's own words (its materials rule), never a profile's text."""
    for material in record.materials:
        if material.role == "model":
            found = rules.material_label(material)
            return found[0] if found else "not recognised by the material rules"
    return "unknown"


def printer_label(record: HarvestRecord, rules: Rules) -> str:
    """The library label (typed by the lab), else a model the printer rules know.

    A label a file or job log carries is free text (a person typed it into a printer or a
    report): only the library's own label for the printer is shown, never that text.
    """
    printer = record.printer
    if printer is None:
        return "unknown"
    entry = rules.library_entry(printer)
    if entry is not None:
        return entry.label
    known = rules.printer_model(printer)
    if known:
        return known[0]
    return "not in the printer library"


def _job(record: HarvestRecord, rules: Rules) -> PrintJob:
    seconds = record.print_duration_s
    if seconds is None:
        seconds = record.print_time_s
    grams = [m.used_g for m in record.materials if m.used_g is not None]
    mls = [m.used_ml for m in record.materials if m.used_ml is not None]
    return PrintJob(
        printer=printer_label(record, rules),
        material=material_label(record, rules),
        time_h=None if seconds is None else seconds / 3600,
        used_g=sum(grams) if grams else None,
        used_ml=sum(mls) if mls else None,
        outcome=record.outcome,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def case_facts(case: Case, rules: Rules) -> CaseFacts:
    """Reduce a case to the facts the report counts."""
    fields = {name: fv.value for name, fv in case.fields.items()}
    technologies = sorted({str(v) for k, v in fields.items()
                           if re.fullmatch(r"prints\.\d+\.technology", k) and v})
    prints = [r for r in case.records if r.kind == "print"]
    part_count = fields.get("model.part_count")
    volume = fields.get("model.volume_ml")
    day = case_day(case)
    modalities = fields.get("imaging.modalities") or []
    return CaseFacts(
        id=case.id,
        registry_id=case.registry_id,
        status=case.status,
        month=day.strftime("%Y-%m"),
        day=day,
        organ_system=_text(fields.get("imaging.organ_system")),
        indication=_text(fields.get("imaging.indication")),
        object_type=_text(fields.get("model.object_type")),
        guide_type=_text(fields.get("model.guide_type")),
        part_count=part_count if isinstance(part_count, int) else None,
        modalities=sorted(str(m) for m in modalities) if isinstance(modalities, list) else [],
        technologies=technologies,
        materials=sorted({material_label(r, rules) for r in prints}),
        effort_minutes={k: duration_minutes(fields.get(f"effort.{k}")) for k in EFFORT_KINDS},
        effort_states={k: effort_state(fields.get(f"effort.{k}")) for k in EFFORT_KINDS},
        volume_ml=float(volume) if isinstance(volume, int | float) else None,
        jobs=[_job(r, rules) for r in prints],
        missing=list(case.missing),
    )
