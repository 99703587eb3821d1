"""The HarvestRecord field reference, generated from the model itself.

Two artefacts come out of :class:`~printharvest.models.HarvestRecord`:

* ``harvest_record.schema.json`` (JSON Schema 2020-12, shipped inside the package: load it
  with :func:`load_schema`), pydantic's schema of the model with each field's meaning and
  unit added from :data:`FIELD_NOTES`;
* ``docs/record.md``, a table per object made from that schema: every field, its type,
  unit, allowed values, whether it may be ``null``, and what it means.

``python -m printharvest.schema [--check] [DOCS_PAGE]`` writes both (or, with ``--check``,
exits 1 when either is out of date); a test runs the check, and fails when a model field has
no note, so the reference cannot fall behind the model.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from printharvest.models import HarvestRecord

SCHEMA_NAME = "harvest_record.schema.json"
SCHEMA_ID = "https://printharvest.invalid/schema/harvest_record.schema.json"

UNITS = {"_mm2": "mm²", "_mm": "mm", "_ml": "mL (cm³)", "_s": "seconds", "_g": "g",
         "_years": "years"}

FIELD_NOTES: dict[str, str] = {
    "HarvestRecord": "One print job, mesh file or imaging set. Units are fixed by the field "
                     "name; unknown is null, never 0.",
    "HarvestRecord.kind": "What the record describes.",
    "HarvestRecord.source": "Where the record came from (file or poller job, connector).",
    "HarvestRecord.case_key": "The key that joins records into one case (from the case-key "
                              "rules); local only, never exported.",
    "HarvestRecord.slicer": "The slicer that wrote a print file.",
    "HarvestRecord.printer": "The printer a job ran on (label from the printer library).",
    "HarvestRecord.technology": "ISO/ASTM 52900 process category.",
    "HarvestRecord.materials": "Materials actually used (unused slots are left out).",
    "HarvestRecord.layer_height_mm": "Layer height.",
    "HarvestRecord.print_time_s": "Slicer or printer estimate of the print time.",
    "HarvestRecord.print_duration_s": "Actual duration, from a printer log or API.",
    "HarvestRecord.started_at": "When the print started (ISO 8601, with offset when known).",
    "HarvestRecord.finished_at": "When the print ended (ISO 8601, with offset when known).",
    "HarvestRecord.outcome": "How the print ended; failed and aborted prints are kept but "
                             "are not registry prints unless the data manager says so.",
    "HarvestRecord.part_count": "Separate bodies in world space, or build items of a print.",
    "HarvestRecord.parts": "One entry per body or build item.",
    "HarvestRecord.volume_ml": "Model volume (null for an open mesh, with a warning).",
    "HarvestRecord.surface_area_mm2": "Model surface area.",
    "HarvestRecord.bbox_mm": "Size of the axis-aligned bounding box [x, y, z] (not corners).",
    "HarvestRecord.watertight": "Whether every mesh edge is shared by exactly two faces.",
    "HarvestRecord.imaging": "What the DICOM headers say, after the PHI allow-list.",
    "HarvestRecord.warnings": "What was odd but not fatal (never file content).",
    "HarvestRecord.segments": "kind segmentation only: one entry per segment.",
    "HarvestRecord.software": "The segmentation or CAD software that made the file.",
    "Segment": "One segment of a segmentation.",
    "Segment.name": "Local segment text (may hold a patient name: never leaves the lab).",
    "Segment.terminology": "Standard codes as SCHEME:CODE strings under category, type, "
                           "type_modifier, region, region_modifier (e.g. SCT:24028007).",
    "Segment.volume_ml": "Volume of this segment.",
    "Software": "The segmentation or CAD software that made a file.",
    "Software.name": "e.g. 3D Slicer, Materialise Mimics.",
    "Software.version": "The software's version as the file names it.",
    "Source": "Where a record came from.",
    "Source.path": "The local file (zip members as archive.zip!/member), or "
                   "poller://printer/job-id for a polled job.",
    "Source.sha256": "Content hash of the file (of printer, poller and job id for a polled "
                     "job); with index, the record's identity.",
    "Source.size": "File size in bytes.",
    "Source.connector": "Id of the connector or poller that read it.",
    "Source.connector_version": "That connector's version.",
    "Source.index": "Position of the job within a log (0 for a single-record file).",
    "Slicer": "The slicer that produced a print file.",
    "Slicer.name": "e.g. PrusaSlicer, Cura, Bambu Studio.",
    "Slicer.version": "The slicer's version as it wrote it.",
    "Printer": "The printer a job ran on.",
    "Printer.manufacturer": "e.g. Formlabs, Stratasys, Prusa Research.",
    "Printer.model": "e.g. Form 3B, Fortus 450mc, MK4.",
    "Printer.serial": "The printer's serial or the vendor's printer name.",
    "Printer.label": "The printer's label in the lab's printer library (rules/printers.yaml).",
    "Material": "A material actually used by a print.",
    "Material.name": "Product name, e.g. Clear V4, PLA.",
    "Material.code": "Vendor material code, e.g. FLGPCL04.",
    "Material.type": "Generic material type, e.g. PLA, resin.",
    "Material.material_class": "Material class from rules/materials.yaml (drives optics).",
    "Material.role": "model or support.",
    "Material.used_g": "Mass used.",
    "Material.used_ml": "Volume used.",
    "Material.used_mm": "Filament length used.",
    "Material.lot": "Cartridge, tank, spool or lot id, where the source has one.",
    "Part": "One separate body of a mesh or one build item of a print.",
    "Part.name": "Local object name (may hold a patient name: never exported).",
    "Part.volume_ml": "Volume of this body.",
    "Part.bbox_mm": "Size of this body's bounding box [x, y, z].",
    "Imaging": "What the DICOM headers say, after the PHI allow-list (no names, no ids).",
    "Imaging.modalities": "DICOM modality codes, e.g. CT, MR.",
    "Imaging.study_count": "Studies under the harvested path.",
    "Imaging.series_count": "Series under the harvested path.",
    "Imaging.slice_thickness_mm": "Thinnest slice thickness.",
    "Imaging.scanner_manufacturers": "Scanner manufacturers named by the series.",
    "Imaging.contrast": "Whether a contrast agent is recorded (null when not said).",
    "Imaging.patient_age_years": "Age at the study; above 89 stored as 90 (HIPAA safe harbour).",
    "Imaging.patient_sex": "DICOM PatientSex code (M, F, O).",
}


def unit_of(name: str) -> str | None:
    """The unit a field name fixes (``_mm``, ``_ml``, ``_s``, ``_g``...), or None."""
    for suffix, unit in UNITS.items():
        if name.endswith(suffix):
            return unit
    return None


def missing_notes() -> list[str]:
    """Model fields (``Object.field``) that have no note: the reference would be incomplete."""
    schema = HarvestRecord.model_json_schema()
    objects = {"HarvestRecord": schema, **schema.get("$defs", {})}
    return [f"{name}.{field}" for name, obj in objects.items()
            for field in obj.get("properties", {}) if f"{name}.{field}" not in FIELD_NOTES]


def build_schema() -> dict[str, Any]:
    """The JSON Schema of HarvestRecord, with meaning and unit in each field's description."""
    schema = HarvestRecord.model_json_schema()
    objects = {"HarvestRecord": schema, **schema.get("$defs", {})}
    for name, obj in objects.items():
        obj["description"] = FIELD_NOTES.get(name, obj.get("description", ""))
        for field, spec in obj.get("properties", {}).items():
            note = FIELD_NOTES.get(f"{name}.{field}", "")
            unit = unit_of(field)
            spec["description"] = f"{note} Unit: {unit}." if unit else note
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema}


def schema_text() -> str:
    """The schema file's text."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    """The shipped schema (validate a record from another program against it)."""
    text = resources.files(__package__).joinpath(SCHEMA_NAME).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _type(spec: dict[str, Any], defs: dict[str, Any]) -> tuple[str, bool, str]:
    """(type words, nullable, allowed values) of one property."""
    options = spec.get("anyOf", [spec])
    nullable = any(o.get("type") == "null" for o in options)
    words: list[str] = []
    allowed = ""
    for option in options:
        if option.get("type") == "null":
            continue
        if "$ref" in option:
            words.append(f"object ({option['$ref'].rsplit('/', 1)[-1]})")
        elif "enum" in option:
            words.append("string")
            allowed = ", ".join(f"`{v}`" for v in option["enum"])
        elif "const" in option:
            words.append("string")
            allowed = f"`{option['const']}`"
        elif option.get("type") == "array":
            item = option.get("items", {})
            inner, _, inner_allowed = _type(item, defs)
            words.append(f"list of {inner}")
            allowed = allowed or inner_allowed
        else:
            kind = str(option.get("type", "any"))
            bounds = [f"≥ {option['minimum']}" if "minimum" in option else "",
                      f"≤ {option['maximum']}" if "maximum" in option else ""]
            bound = " ".join(b for b in bounds if b)
            words.append(kind)
            if bound:
                allowed = bound
    return " or ".join(words) or "any", nullable, allowed


def markdown() -> str:
    """The docs page: one table per object, made from :func:`build_schema`."""
    schema = build_schema()
    defs = schema.get("$defs", {})
    lines = [
        "# HarvestRecord field reference",
        "",
        "<!-- Generated by `uv run python -m printharvest.schema docs/record.md` from the "
        "model; do not edit by hand. -->",
        "",
        "Every record `printharvest inspect --json` prints, every record a connector returns, "
        "and every record a poller makes has these fields. The same reference as JSON Schema "
        f"ships in the package (`printharvest/schema/{SCHEMA_NAME}`; "
        "`printharvest.schema.load_schema()`). Unknown is `null`, never 0; units are fixed by "
        "the field name.",
        "",
    ]
    objects = [("HarvestRecord", schema), *sorted(defs.items())]
    for name, obj in objects:
        lines += [f"## {name}", "", obj.get("description", ""), "",
                  "| field | type | unit | allowed values | null | required | meaning |",
                  "|---|---|---|---|---|---|---|"]
        required = set(obj.get("required", []))
        for field, spec in obj.get("properties", {}).items():
            kind, nullable, allowed = _type(spec, defs)
            lines.append(
                f"| `{field}` | {kind} | {unit_of(field) or ''} | {allowed} | "
                f"{'yes' if nullable else 'no'} | {'yes' if field in required else 'no'} | "
                f"{FIELD_NOTES.get(f'{name}.{field}', '')} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Write (or ``--check``) the shipped schema and the docs page."""
    check = "--check" in argv
    rest = [a for a in argv if a != "--check"]
    docs = Path(rest[0]) if rest else Path("docs/record.md")
    targets = {Path(__file__).with_name(SCHEMA_NAME): schema_text(), docs: markdown()}
    stale = [p for p, text in targets.items()
             if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if check:
        for path in stale:
            print(f"{path}: out of date (run python -m printharvest.schema)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(targets[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0
