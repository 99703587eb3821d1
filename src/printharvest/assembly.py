"""Case assembly: from a case's stored records to harvested field values with provenance.

The rules here are deliberately plain: imaging facts come from imaging records, the part
count from mesh records, and print records are grouped into the dictionary's prints (same
printer, technology and material = one print; repeats of it are copies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .case import FieldValue, Provenance
from .imaging import SeriesKey
from .models import HarvestRecord
from .store import StoredRecord


def provenance(stored: StoredRecord, rule: str | None = None) -> Provenance:
    """Provenance pointing at one stored record."""
    source = stored.record.source
    return Provenance(origin="harvest", record_id=stored.id, sha256=source.sha256,
                      index=source.index, path=source.path, connector=source.connector,
                      rule=rule)


def assemble(records: Iterable[StoredRecord],
             imaging_series: Mapping[int, list[SeriesKey]] | None = None
             ) -> dict[str, FieldValue]:
    """Harvested field values for one case.

    ``imaging_series`` maps imaging record ids to their salted ``(study, series)`` hashes;
    when every imaging record has them, studies are counted once across records.
    """
    records = list(records)
    fields: dict[str, FieldValue] = {}

    def put(name: str, value: Any, stored: StoredRecord, rule: str | None = None) -> None:
        if value is not None and value != [] and name not in fields:
            fields[name] = FieldValue(value=value, provenance=provenance(stored, rule))

    imaging = [s for s in records if s.record.kind == "imaging" and s.record.imaging]
    if imaging:
        modalities = sorted({m for s in imaging for m in s.record.imaging.modalities})  # type: ignore[union-attr]
        put("imaging.modalities", modalities, imaging[0])
        keyed = imaging_series or {}
        studies = [s.record.imaging.study_count for s in imaging]  # type: ignore[union-attr]
        if all(s.id in keyed for s in imaging):
            distinct = {study for s in imaging for study, _ in keyed[s.id]}
            put("imaging.study_count", len(distinct), imaging[0], "distinct salted study UIDs")
        elif all(n is not None for n in studies):
            put("imaging.study_count", sum(n for n in studies if n is not None), imaging[0])
        for s in imaging:
            put("imaging.patient_age", s.record.imaging.patient_age_years, s)  # type: ignore[union-attr]
            put("imaging.patient_sex", s.record.imaging.patient_sex, s)  # type: ignore[union-attr]

    meshes = [s for s in records if s.record.kind == "mesh"]
    if meshes and all(s.record.part_count is not None for s in meshes):
        put("model.part_count", sum(s.record.part_count or 0 for s in meshes), meshes[0])
    volumes = [s.record.volume_ml for s in meshes]
    if meshes and all(v is not None for v in volumes):
        put("model.volume_ml", round(sum(v or 0.0 for v in volumes), 3), meshes[0])

    for number, jobs in enumerate(_prints([s for s in records if s.record.kind == "print"]), 1):
        _put_print(fields, number, jobs)
    return fields


def _print_identity(record: HarvestRecord) -> tuple[Any, ...]:
    printer = record.printer
    model_materials = tuple(sorted(m.name or m.type or "" for m in record.materials
                                   if m.role == "model"))
    return (
        (printer.label or printer.model) if printer else None,
        record.technology,
        model_materials,
    )


def _prints(jobs: list[StoredRecord]) -> list[list[StoredRecord]]:
    grouped: dict[tuple[Any, ...], list[StoredRecord]] = {}
    for stored in jobs:
        grouped.setdefault(_print_identity(stored.record), []).append(stored)
    return list(grouped.values())


def _put_print(fields: dict[str, FieldValue], number: int, jobs: list[StoredRecord]) -> None:
    first = jobs[0]
    record = first.record
    prefix = f"prints.{number}."

    def put(name: str, value: Any, rule: str | None = None) -> None:
        if value is not None and value != []:
            fields[prefix + name] = FieldValue(value=value, provenance=provenance(first, rule))

    notes = first.rule_notes
    if record.printer is not None:
        put("printer_label", record.printer.label, notes.get("printer.label"))
        put("printer_manufacturer", record.printer.manufacturer, notes.get("printer.manufacturer"))
        put("printer_model", record.printer.model, notes.get("printer.model"))
    put("technology", record.technology, notes.get("technology"))
    models = [(i, m) for i, m in enumerate(record.materials) if m.role == "model"]
    if models:
        put("material", " + ".join(m.name or m.type or "?" for _, m in models))
        index, material = models[0]
        put("material_class", material.material_class,
            notes.get(f"materials.{index}.material_class"))
    put("copies", len(jobs))
    times = [j.record.print_time_s for j in jobs]
    if all(t is not None for t in times):
        put("print_time_s", sum(t or 0 for t in times))
    grams = [sum(m.used_g for m in j.record.materials if m.used_g is not None) for j in jobs
             if any(m.used_g is not None for m in j.record.materials)]
    if len(grams) == len(jobs):
        put("material_used_g", round(sum(grams), 3))
    put("part_count", record.part_count)
