"""Case assembly: from a case's stored records to harvested field values with provenance.

- Imaging facts come from imaging records (modalities outside the dictionary's list count as
  ``OTHER`` when the dictionary has it).
- The digital model's parts are the separate bodies of the mesh records, dominant (largest)
  first; part and file names give region / structure / laterality hints through the anatomy
  rules, and a guide name makes the object an anatomic guide.
- Segmentation records, when the case has any, give the parts instead (one per segment,
  codes first, then names) and the software (:mod:`.segments`); several mesh files without a
  segmentation are one part each (an exporter's one mesh per segment).
- Print records are grouped into the dictionary's prints: the same parts, printer, scale and
  model material are one print, and repeats of it are its copies. Prints beyond the
  dictionary's limit are kept in ``prints.unplaced`` (shown, never dropped).

Every value carries the record it came from and the rule that gave it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from printharvest.cases.model import FieldValue, Provenance
from printharvest.cases.segments import (
    mesh_files_as_parts,
    put_segment_parts,
    put_software,
    segment_parts,
    single_body,
)
from printharvest.connectors.dicom.series import SeriesKey
from printharvest.dictionary.elements import Dictionary
from printharvest.models import HarvestRecord
from printharvest.rules.anatomy import AnatomyHints, AnatomyRules, normalise
from printharvest.rules.lab import MATERIALS_FILE, PRINTERS_FILE, Rules
from printharvest.store import StoredRecord

DEFAULT_SCALE = 100
UNPLACED_PRINTS = "prints.unplaced"
"""Harvested prints that did not fit the dictionary's limit (not a dictionary element)."""
UNPLACED_PARTS = "parts.unplaced"
"""Mesh bodies beyond the dictionary's parts limit (not a dictionary element)."""
NOT_COUNTED_PRINTS = "prints.not_counted"
"""Failed or aborted prints: kept and shown, not registry prints (not a dictionary element)."""
COUNTED_RECORDS = "prints.counted_records"
"""Record ids of failed prints the data manager chose to count (typed, never harvested)."""
NOT_SUCCEEDED = ("failed", "aborted")
"""Outcomes of a print that is not a registry print unless the data manager counts it."""


def provenance(stored: StoredRecord, rule: str | None = None) -> Provenance:
    """Provenance pointing at one stored record."""
    source = stored.record.source
    return Provenance(origin="harvest", record_id=stored.id, sha256=source.sha256,
                      index=source.index, path=source.path, connector=source.connector,
                      rule=rule)


@dataclass
class Assembler:
    """Applies the rules to one case's records."""

    dictionary: Dictionary
    rules: Rules = field(default_factory=Rules)
    anatomy: AnatomyRules = field(default_factory=AnatomyRules)
    _counted: set[int] = field(default_factory=set, init=False, repr=False)

    def assemble(self, records: Iterable[StoredRecord],
                 imaging_series: Mapping[int, list[SeriesKey]] | None = None,
                 counted: Iterable[int] = ()) -> dict[str, FieldValue]:
        """Harvested field values for one case.

        ``imaging_series`` maps imaging record ids to their salted ``(study, series)`` hashes;
        when every imaging record has them, studies are counted once across records.
        ``counted`` holds ids of failed or aborted print records the data manager counts as
        registry prints anyway (a reprint of the same print); other such prints are listed in
        ``prints.not_counted`` only.
        """
        self._counted = set(counted)
        records = list(records)
        fields: dict[str, FieldValue] = {}
        self._imaging(fields, [s for s in records if s.record.kind == "imaging"],
                      imaging_series or {})
        meshes = [s for s in records if s.record.kind == "mesh"]
        segmented = self._segmentation(fields, [s for s in records
                                                if s.record.kind == "segmentation"], meshes)
        self._model(fields, meshes, parts=not segmented)
        self._prints(fields, [s for s in records if s.record.kind == "print"])
        return fields

    # -- imaging ------------------------------------------------------------------------

    def _imaging(self, fields: dict[str, FieldValue], imaging: list[StoredRecord],
                 keyed: Mapping[int, list[SeriesKey]]) -> None:
        sets = [(s, s.record.imaging) for s in imaging if s.record.imaging is not None]
        if not sets:
            return
        first = sets[0][0]
        allowed = self._values("imaging.modalities")
        modalities: set[str] = set()
        for _, facts in sets:
            for code in facts.modalities:
                modalities.add(code if not allowed or code in allowed
                               else ("OTHER" if "OTHER" in allowed else code))
        _put(fields, "imaging.modalities", sorted(modalities), first)
        studies = [facts.study_count for _, facts in sets]
        if all(s.id in keyed for s, _ in sets):
            distinct = {study for s, _ in sets for study, _ in keyed[s.id]}
            _put(fields, "imaging.study_count", len(distinct), first,
                 "distinct salted study UIDs")
        elif all(n is not None for n in studies):
            _put(fields, "imaging.study_count", sum(n or 0 for n in studies), first)
        for stored, facts in sets:
            _put(fields, "imaging.patient_age", facts.patient_age_years, stored)
            _put(fields, "imaging.patient_sex", facts.patient_sex, stored)

    # -- digital model ------------------------------------------------------------------

    def _segmentation(self, fields: dict[str, FieldValue], segmentations: list[StoredRecord],
                      meshes: list[StoredRecord]) -> bool:
        """Parts and software from segmentations (:mod:`.segments`); True when they gave
        the parts. Several mesh files without one count as one part per file."""
        put_software(fields, self.anatomy, [*segmentations, *meshes], _put)
        parts = segment_parts(self.anatomy, segmentations, meshes)
        if not parts:
            if mesh_files_as_parts(meshes):
                meshes[:] = [replace(s, record=single_body(s.record)) for s in meshes]
            return False
        limit = self.dictionary.group("parts").max if self._has_group("parts") else 0

        def allowed(key: str, value: str) -> bool:
            values = self._values(f"parts.{key}")
            return (self.dictionary.resolve(f"parts.1.{key}") is not None
                    and (not values or value in values))

        put_segment_parts(fields, parts, limit, allowed, _put)
        return True

    def _model(self, fields: dict[str, FieldValue], meshes: list[StoredRecord],
               parts: bool = True) -> None:
        if not meshes:
            return
        if parts and all(s.record.part_count is not None for s in meshes):
            _put(fields, "model.part_count", sum(s.record.part_count or 0 for s in meshes),
                 meshes[0], "mesh bodies")
        volumes = [s.record.volume_ml for s in meshes]
        if all(v is not None for v in volumes):
            _put(fields, "model.volume_ml", round(sum(v or 0.0 for v in volumes), 3), meshes[0])
        if not parts:
            return  # the segmentation gave the parts
        bodies = [body for stored in meshes for body in self._bodies(stored)]
        # Dominant first: the largest body leads; unknown volumes keep their order at the end.
        bodies.sort(key=lambda b: -(b.volume if b.volume is not None else -1.0))
        limit = self.dictionary.group("parts").max if self._has_group("parts") else 0
        for number, body in enumerate(bodies[:limit], 1):
            for key, value in body.hints.values.items():
                if key in ("object_type", "guide_type"):
                    continue
                name = f"parts.{number}.{key}"
                allowed = self._values(f"parts.{key}")
                if self.dictionary.resolve(name) is not None and (not allowed or value in allowed):
                    _put(fields, name, value, body.stored, body.hints.rules[key])
        if bodies[limit:]:
            _put(fields, UNPLACED_PARTS, len(bodies) - limit, bodies[limit].stored,
                 f"more bodies than the dictionary's {limit} parts")
        self._object_type(fields, bodies)

    def _object_type(self, fields: dict[str, FieldValue], bodies: list[_Body]) -> None:
        guides = [b for b in bodies if b.hints.values.get("object_type") == "anatomic_guide"]
        if guides:
            guide = guides[0]
            _put(fields, "model.object_type", "anatomic_guide", guide.stored,
                 guide.hints.rules["object_type"])
            if "guide_type" in guide.hints.values:
                _put(fields, "model.guide_type", guide.hints.values["guide_type"], guide.stored,
                     guide.hints.rules["guide_type"])
            return
        named = [b for b in bodies if "structure" in b.hints.values]
        if named:
            _put(fields, "model.object_type", "anatomic_model", named[0].stored,
                 named[0].hints.rules["structure"])

    def _bodies(self, stored: StoredRecord) -> list[_Body]:
        record = stored.record
        stem = _file_name(record)
        count = max(record.part_count or 0, len(record.parts))
        named = [(p.name, p.volume_ml) for p in record.parts]
        named += [(None, None)] * (count - len(named))
        if not named:
            named = [(None, record.volume_ml)]
        file_hints = self.anatomy.hints(stem)
        unnamed = [i for i, (name, _) in enumerate(named) if not name]
        # Several unnamed bodies in one file named after several structures ("kidney_tumour"):
        # the structures are taken in the order the name lists them, largest body first.
        words = [self.anatomy.hints(w) for w in normalise(stem).split()]
        words = [w for w in words if "structure" in w.values]
        order = sorted(unnamed, key=lambda i: -(named[i][1] or -1.0))
        bodies: list[_Body] = []
        for i, (name, volume) in enumerate(named):
            if name:
                hints = self.anatomy.hints(name)
                _inherit(hints, file_hints)
            elif len(unnamed) > 1 and len(words) == len(unnamed):
                hints = _copy(words[order.index(i)])
                _inherit(hints, file_hints)
            elif len(unnamed) == 1 or i == order[0]:
                hints = file_hints
            else:
                hints = AnatomyHints()
            bodies.append(_Body(stored, volume, hints))
        return bodies

    # -- prints -------------------------------------------------------------------------

    def _prints(self, fields: dict[str, FieldValue], jobs: list[StoredRecord]) -> None:
        failed = [s for s in jobs if s.record.outcome in NOT_SUCCEEDED
                  and s.id not in self._counted]
        if failed:
            _put(fields, NOT_COUNTED_PRINTS,
                 [{**_print_summary([s]), "outcome": s.record.outcome, "record": s.id}
                  for s in failed], failed[0],
                 "failed or aborted: not a registry print unless counted"
                 " (cases count-print CASE RECORD)")
        grouped: dict[tuple[Any, ...], list[StoredRecord]] = {}
        for stored in [s for s in jobs if s not in failed]:
            grouped.setdefault(_print_identity(stored.record), []).append(stored)
        prints = list(grouped.values())
        limit = self.dictionary.group("prints").max if self._has_group("prints") else 0
        for number, group in enumerate(prints[:limit], 1):
            self._put_print(fields, number, group)
        if prints[limit:]:
            unplaced = [_print_summary(group) for group in prints[limit:]]
            _put(fields, UNPLACED_PRINTS, unplaced, prints[limit][0],
                 f"more prints than the dictionary's {limit}")

    def _put_print(self, fields: dict[str, FieldValue], number: int,
                   jobs: list[StoredRecord]) -> None:
        first = jobs[0]
        record = first.record
        notes = first.rule_notes

        def put(name: str, value: Any, rule: str | None = None) -> None:
            _put(fields, f"prints.{number}.{name}", value, first, rule)

        printer = record.printer
        if printer is not None:
            # Free text from a file (a printer's name, a profile name) is never a value that
            # may leave: only what the lab's printer library or model rules recognise is.
            known = self.rules.printer_model(printer)
            if printer.label:
                put("printer_label", printer.label, notes.get("printer.label"))
            elif known:
                # The manufacturer only when a rule gave it (a file may name anything there).
                maker = printer.manufacturer if notes.get("printer.manufacturer") else None
                fallback = " ".join(filter(None, (maker, known[0])))
                put("printer_label", fallback,
                    f"{known[1]}: manufacturer and model (printer not in the printer library)")
            put("printer_manufacturer", printer.manufacturer, notes.get("printer.manufacturer"))
            if known:
                put("printer_model", known[0], known[1])
            elif not printer.label:
                said = " ".join(filter(None, (printer.manufacturer, printer.model,
                                              printer.serial and f"serial {printer.serial}")))
                if said:
                    # Shown to the data manager only (not a dictionary element, never leaves).
                    put("printer_unknown", f"the file says {said!r}: not in the printer"
                        f" library: add it to rules/{PRINTERS_FILE}", "no printer library entry"
                        " or model rule matched")
        put("technology", record.technology, notes.get("technology"))
        models = [(i, m) for i, m in enumerate(record.materials) if m.role == "model"]
        if models:
            labels = [found for _, m in models if (found := self.rules.material_label(m))]
            if len(labels) == len(models):  # every model material recognised by a rule
                put("material", " + ".join(name for name, _ in labels), labels[0][1])
            index, material = models[0]
            put("material_class", material.material_class,
                notes.get(f"materials.{index}.material_class"))
            self._optical(put, [m for _, m in models])
        put("scale", DEFAULT_SCALE, "default: 100 % (no scale recorded)")
        put("copies", len(jobs), f"{len(jobs)} identical job(s)")
        times = [j.record.print_time_s for j in jobs]
        if all(t is not None for t in times):
            put("print_time_s", sum(t or 0 for t in times))
        grams = [sum(m.used_g for m in j.record.materials if m.used_g is not None) for j in jobs
                 if any(m.used_g is not None for m in j.record.materials)]
        if len(grams) == len(jobs):
            put("material_used_g", round(sum(grams), 3))
        put("part_count", record.part_count)
        outcomes = sorted({j.record.outcome or "unknown" for j in jobs})
        counted = [j.id for j in jobs if j.id in self._counted]
        put("outcome", ", ".join(outcomes),
            f"counted by the data manager (record {', '.join(map(str, counted))})"
            if counted else None)

    def _optical(self, put: Any, materials: list[Any]) -> None:
        found: list[tuple[str, str]] = []
        for material in materials:
            matched = self.rules.material_rule(material)
            rule = matched[0] if matched else None
            if rule is None or rule.optical_property is None:
                return  # one material of unknown optics: the object's optics are unknown
            found.append((rule.optical_property, f"{MATERIALS_FILE}#{rule.name}"))
        kinds = {kind for kind, _ in found}
        if len(kinds) == 1:
            put("optical_property", found[0][0], found[0][1])
        elif kinds and "mixed" in self._values("prints.optical_property"):
            put("optical_property", "mixed", "; ".join(rule for _, rule in found))

    # -- helpers ------------------------------------------------------------------------

    def _values(self, element_id: str) -> list[str]:
        element = self.dictionary.element(element_id)
        return element.values if element is not None else []

    def _has_group(self, group_id: str) -> bool:
        return any(g.id == group_id for g in self.dictionary.groups)


@dataclass
class _Body:
    stored: StoredRecord
    volume: float | None
    hints: AnatomyHints


def _copy(hints: AnatomyHints) -> AnatomyHints:
    return AnatomyHints(dict(hints.values), dict(hints.rules))


def _inherit(hints: AnatomyHints, file_hints: AnatomyHints) -> None:
    """Region, subregion and side from the file name where the part's own name is silent."""
    for key in ("region", "subregion", "laterality", "object_type", "guide_type"):
        if key not in hints.values and key in file_hints.values:
            hints.values[key] = file_hints.values[key]
            hints.rules[key] = file_hints.rules[key]


def _file_name(record: HarvestRecord) -> str:
    return PurePosixPath(record.source.path.replace("\\", "/").split("!/")[-1]).name


def _put(fields: dict[str, FieldValue], name: str, value: Any, stored: StoredRecord,
         rule: str | None = None) -> None:
    if value is not None and value != [] and name not in fields:
        fields[name] = FieldValue(value=value, provenance=provenance(stored, rule))


def _print_identity(record: HarvestRecord) -> tuple[Any, ...]:
    printer = record.printer
    parts = tuple(sorted(p.name or "" for p in record.parts)) or record.part_count
    model_materials = tuple(sorted(m.name or m.type or "" for m in record.materials
                                   if m.role == "model"))
    return (
        parts,
        (printer.label or printer.model) if printer else None,
        record.technology,
        DEFAULT_SCALE,
        model_materials,
    )


def _print_summary(jobs: list[StoredRecord]) -> dict[str, Any]:
    record = jobs[0].record
    printer = record.printer
    return {
        "printer": (printer.label or printer.model) if printer else None,
        "technology": record.technology,
        "material": " + ".join(m.name or m.type or "?" for m in record.materials
                               if m.role == "model") or None,
        "copies": len(jobs),
        "records": [j.record.source.sha256[:12] for j in jobs],
    }


def assemble(records: Iterable[StoredRecord], dictionary: Dictionary,
             rules: Rules | None = None, anatomy: AnatomyRules | None = None
             ) -> dict[str, FieldValue]:
    """Harvested field values for one case (default rules when none are given)."""
    return Assembler(dictionary, rules or Rules(), anatomy or AnatomyRules()).assemble(records)
