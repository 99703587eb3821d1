"""Synthetic cases for demos, tests and benchmarks: plausible, seeded, never patient data.

``fill_synthetic(app, count, seed)`` ingests ``count`` cases made of print, mesh and imaging
records through the normal CaseService path, then types clinical values and moves some
cases along the status flow, the way a lab's year of work would look.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from printharvest.app import App
from printharvest.cases.service import IngestReport
from printharvest.cases.status import move
from printharvest.harvest.harvester import HarvestedRecord
from printharvest.models import HarvestRecord, Imaging, Material, Printer, Source
from printharvest.vocab import Outcome, Technology

_PRINTERS: list[tuple[str, str, str, Technology, list[tuple[str, str]]]] = [
    ("Form 3B (radiology)", "Formlabs", "Form 3B", "vat_photopolymerization",
     [("Clear V4", "FLGPCL04"), ("BioMed Clear", "FLBMCL01"), ("Elastic 50A", "FLELCL01")]),
    ("J750 Digital Anatomy", "Stratasys", "J750", "material_jetting",
     [("VeroClear", "RGD810"), ("Agilus30", "FLX935")]),
    ("Prusa MK4S (bench 1)", "Prusa Research", "MK4S", "material_extrusion",
     [("PLA", "PLA"), ("PETG", "PETG")]),
    ("Fuse 1+", "Formlabs", "Fuse 1+ 30W", "powder_bed_fusion", [("Nylon 12", "FPPA1201")]),
]
_ORGANS = ["cardiac", "vascular", "neurologic", "craniomaxillofacial", "genitourinary",
           "musculoskeletal", "hepatobiliary", "thoracic"]
_PURPOSES = ["surgical_planning", "procedural_planning", "education_patient",
             "education_trainee", "simulation"]
OUTCOMES: list[Outcome] = ["success", "failed", "aborted"]
_GUIDES = ["cutting", "drilling", "positioning"]
_EFFORT = ["consultation_clinician", "consultation_nonclinician", "segmentation_clinician",
           "segmentation_nonclinician", "cad_clinician", "cad_nonclinician",
           "postprocessing_clinician", "postprocessing_nonclinician"]


def _source(key: str, n: int, connector: str) -> Source:
    digest = hashlib.sha256(f"synthetic/{key}/{n}".encode()).hexdigest()
    return Source(path=f"synthetic/{key}/{n}", sha256=digest, size=1000 + n,
                  connector=connector, connector_version="synthetic")


def _records(rng: random.Random, key: str, start: datetime) -> list[HarvestRecord]:
    label, maker, model, tech, materials = rng.choice(_PRINTERS)
    name, code = rng.choice(materials)
    seconds = rng.randint(1800, 30 * 3600)
    outcome: Outcome = rng.choices(OUTCOMES, [0.88, 0.08, 0.04])[0]
    grams = round(rng.uniform(5, 400), 1)
    parts = rng.randint(1, 8)
    records = [
        HarvestRecord(
            kind="print", source=_source(key, 0, "synthetic-printer"), case_key=key,
            printer=Printer(manufacturer=maker, model=model, label=label), technology=tech,
            materials=[Material(name=name, code=code, type=code, role="model", used_g=grams,
                                used_ml=round(grams / 1.15, 1))],
            print_time_s=seconds, print_duration_s=seconds + rng.randint(-600, 1800),
            started_at=start.isoformat(timespec="seconds"),
            finished_at=(start + timedelta(seconds=seconds)).isoformat(timespec="seconds"),
            outcome=outcome, part_count=parts),
        HarvestRecord(
            kind="mesh", source=_source(key, 1, "synthetic-mesh"), case_key=key,
            part_count=parts, volume_ml=round(rng.lognormvariate(4, 0.9), 2), watertight=True),
    ]
    modalities = rng.choices([["CT"], ["MR"], ["CT", "MR"], ["CT", "PT"]], [6, 3, 2, 1])[0]
    records.append(HarvestRecord(
        kind="imaging", source=_source(key, 2, "synthetic-dicom"), case_key=key,
        imaging=Imaging(modalities=modalities, study_count=len(modalities), series_count=2,
                        patient_age_years=rng.randint(0, 90), patient_sex=rng.choice("MF"))))
    return records


def fill_synthetic(app: App, count: int, seed: int = 7) -> IngestReport:
    """Ingest ``count`` synthetic cases and complete most of them; return the ingest report."""
    rng = random.Random(seed)
    report = IngestReport()
    origin = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    for i in range(count):
        key = f"synthetic-{i + 1:04d}"
        start = origin + timedelta(days=rng.randint(0, 320), hours=rng.randint(0, 10))
        for record in _records(rng, key, start):
            app.cases.ingest_one(HarvestedRecord(record), report, actor="synthetic")
        case_id = app.store.ensure_case(key)[0]
        if rng.random() < 0.15:
            continue  # left for the data manager
        guide = rng.random() < 0.3
        organ = rng.choice(_ORGANS)
        values: dict[str, object] = {
            "imaging.organ_system": organ,
            # a condition of that organ system, as the lab's dictionary lists them
            "imaging.indication": rng.choice(_conditions(app, organ)),
            "model.purpose": rng.choice(_PURPOSES),
            "model.object_type": "anatomic_guide" if guide else "anatomic_model",
        }
        if guide:
            values["model.guide_type"] = rng.choice(_GUIDES)
        for kind in _EFFORT:
            if rng.random() < 0.9:
                values[f"effort.{kind}"] = {"hours": rng.randint(0, 3),
                                            "minutes": rng.choice([0, 15, 30, 45])}
            else:
                values[f"effort.{kind}"] = "unknown"
        app.cases.set_values(case_id, values, actor="synthetic")
        status = rng.choices(["needs_clinical", "ready", "exported", "submitted", "accepted",
                              "rejected"], [1, 2, 1, 1, 4, 1])[0]
        if status != "needs_clinical":
            with app.store.transaction():
                for step in _path_to(status):
                    move(app.store, case_id, step, actor="synthetic")
    return report


def _conditions(app: App, organ: str) -> list[str]:
    element = app.dictionary.element("imaging.indication")
    if element is None:
        return ["other"]
    return app.dictionary.allowed(element, {"imaging.organ_system": organ}) or element.values


def _path_to(status: str) -> list[str]:
    flow = {"ready": ["ready"], "exported": ["ready", "exported"],
            "submitted": ["ready", "submitted"], "accepted": ["ready", "submitted", "accepted"],
            "rejected": ["ready", "submitted", "rejected"]}
    return flow[status]
