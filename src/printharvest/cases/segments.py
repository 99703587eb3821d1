"""The Digital Model from the segmentation: parts, their anatomy, and the software.

When a case holds ``segmentation`` records (3D Slicer, DICOM SEG, RTSTRUCT), its anatomic
parts are the segments, one part per segment (the same segment in a ``.seg.nrrd`` and in the
``.mrb`` that bundles it counts once), dominant first (largest volume where known, else the
file's order). Each part's region / subregion / structure / laterality come from the segment's
standard codes through the code map of ``rules/anatomy.yaml`` first, then from its name
through the keyword rules; every value names the record and the rule that gave it.

A segment whose codes and name no rule knows leaves its part to type: the part is still
counted, and its segment name is kept as a local hint (``parts.N.segment``, not a dictionary
element, so it never leaves).

When a case has no segmentation but several mesh files, an exporter wrote one mesh per
segment: the parts are the files, not the bodies inside them (:func:`mesh_files_as_parts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from printharvest.cases.model import FieldValue
from printharvest.models import HarvestRecord, Segment, Software
from printharvest.rules.anatomy import AnatomyHints, AnatomyRules, normalise
from printharvest.store import StoredRecord

SEGMENT_HINT = "segment"
"""``parts.N.segment``: the local segment name of part N (a hint, not a registry element)."""
ATTRIBUTES = ("region", "subregion", "structure", "laterality")

Put = Callable[[dict[str, FieldValue], str, Any, StoredRecord, str | None], None]


@dataclass
class SegmentPart:
    """One segment as a part: where it came from and what the rules say."""

    stored: StoredRecord
    number: int
    segment: Segment
    hints: AnatomyHints


def segment_parts(anatomy: AnatomyRules, records: list[StoredRecord],
                  meshes: list[StoredRecord] | None = None) -> list[SegmentPart]:
    """Every distinct segment of the case's segmentation records, dominant first.

    A segment without a volume takes the volume of the mesh exported from it, where one
    mesh of the case is named after it (``Segmentation_Right kidney.stl``, ``solid Tumor``).
    """
    volumes = _mesh_volumes(meshes or [])
    parts: list[SegmentPart] = []
    seen: set[tuple[str | None, tuple[tuple[str, str], ...]]] = set()
    for stored in records:
        for number, segment in enumerate(stored.record.segments or [], 1):
            identity = (segment.name, tuple(sorted(segment.terminology.items())))
            if identity in seen:
                continue
            seen.add(identity)
            if segment.volume_ml is None and segment.name:
                volume = _volume_for(normalise(segment.name), volumes)
                if volume is not None:
                    segment = segment.model_copy(update={"volume_ml": volume})
            parts.append(SegmentPart(stored, number, segment, segment_hints(anatomy, segment)))
    # Dominant first: the largest known volume leads; unknown volumes keep the file order.
    parts.sort(key=lambda p: -(p.segment.volume_ml if p.segment.volume_ml is not None
                               else -1.0))
    return parts


def _mesh_volumes(meshes: list[StoredRecord]) -> list[tuple[str, float]]:
    """(normalised name, volume) of every single-body mesh: its part name and file stem."""
    found: list[tuple[str, float]] = []
    for stored in meshes:
        record = stored.record
        if record.volume_ml is None or (record.part_count or 0) > 1:
            continue
        names = [p.name for p in record.parts if p.name]
        stem = record.source.path.replace("\\", "/").split("!/")[-1].rsplit("/", 1)[-1]
        for name in [*names, stem]:
            found.append((normalise(name), record.volume_ml))
    return found


def _volume_for(name: str, volumes: list[tuple[str, float]]) -> float | None:
    """The volume of the mesh named after a segment (the whole name, or its last words)."""
    matches = {v for text, v in volumes if text == name or text.endswith(" " + name)}
    return matches.pop() if len(matches) == 1 else None


def segment_hints(anatomy: AnatomyRules, segment: Segment) -> AnatomyHints:
    """Codes first, then the name for what the codes did not say."""
    hints = anatomy.code_hints(segment.terminology)
    if segment.name:
        named = anatomy.hints(segment.name)
        for key in (*ATTRIBUTES, "object_type", "guide_type"):
            if key not in hints.values and key in named.values:
                hints.values[key] = named.values[key]
                hints.rules[key] = named.rules[key]
    return hints


def put_segment_parts(fields: dict[str, FieldValue], parts: list[SegmentPart], limit: int,
                      allowed: Callable[[str, str], bool], put: Put) -> None:
    """``model.part_count`` and the parts group from the segments (``limit`` parts at most;
    ``allowed(attribute, value)`` says whether the dictionary takes a hint)."""
    if not parts:
        return
    put(fields, "model.part_count", len(parts), parts[0].stored,
        f"{len(parts)} segment(s)")
    for number, part in enumerate(parts[:limit], 1):
        rule = f"segment {part.number}"
        for key in ATTRIBUTES:
            value = part.hints.values.get(key)
            if value is not None and allowed(key, value):
                put(fields, f"parts.{number}.{key}", value, part.stored,
                    f"{part.hints.rules[key]} ({rule})")
        if part.segment.name:
            put(fields, f"parts.{number}.{SEGMENT_HINT}", part.segment.name, part.stored, rule)
    if parts[limit:]:
        put(fields, "parts.unplaced", len(parts) - limit, parts[limit].stored,
            f"more segments than the dictionary's {limit} parts")
    named = [p for p in parts if "structure" in p.hints.values]
    if named:
        put(fields, "model.object_type", "anatomic_model", named[0].stored,
            named[0].hints.rules["structure"])


def put_software(fields: dict[str, FieldValue], anatomy: AnatomyRules,
                 records: list[StoredRecord], put: Put) -> None:
    """``model.software`` from the first record that names its software: in the lab's words
    when a software rule knows the name (then it may leave), else as the file says it (shown
    to the lab only: the egress gate sends no harvested free text)."""
    for stored in records:
        software = stored.record.software
        if software is None:
            continue
        known = anatomy.software_label(software.name, software.version)
        if known is not None:
            put(fields, "model.software", known[0], stored, known[1])
        else:
            put(fields, "model.software", _plain(software), stored, None)
        return


def _plain(software: Software) -> str:
    return " ".join(filter(None, (software.name, software.version)))


def mesh_files_as_parts(meshes: list[StoredRecord]) -> bool:
    """Several mesh files in one case: one mesh per segment, so each file is one part."""
    return len(meshes) > 1


def single_body(record: HarvestRecord) -> HarvestRecord:
    """A mesh record seen as one part (its file is one exported segment)."""
    name = next((p.name for p in record.parts if p.name), None)
    return record.model_copy(update={
        "part_count": 1,
        "parts": [record.parts[0].model_copy(update={"name": name, "volume_ml": record.volume_ml})]
        if record.parts else [],
    })
