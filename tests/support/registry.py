"""Helpers for the registry tests: a home with sample jobs harvested and cases made ready."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

from printharvest.app import App
from printharvest.cases.status import move
from printharvest.cli.demo_cmd import NOT_JOB_FILES
from printharvest.nrdr.emulator import EmulatorState
from tests.support.paths import DEMO_CASES

CLINICAL: dict[str, Any] = {
    "imaging.modalities": ["CT"],
    "imaging.study_count": 1,
    "imaging.patient_age": 57,
    "imaging.patient_sex": "F",
    "imaging.indication": "renal_tumour",
    "imaging.organ_system": "genitourinary",
    "model.object_type": "anatomic_model",
    "model.purpose": "surgical_planning",
    "model.ordering_service": "urology",
    "model.software": "3D Slicer 5.6",
    "parts.1.region": "head",
    "parts.1.subregion": "face",
    "parts.1.structure": "bone",
    "parts.1.laterality": "left",
    "parts.1.comment": "tumour | margin\nshown",
    "parts.2.region": "abdomen",
    "parts.2.structure": "artery",
    "parts.2.comment": "=renal artery",
    "prints.1.printer_label": "Prusa MK4S (bench 1)",
    "prints.1.optical_property": "opaque",
    "prints.1.scale": 100,
    "prints.1.parts": ["1", "2"],
    "procedure.use": "preoperative_planning",
    "procedure.time_saved_minutes": 20,
    "effort.consultation_clinician": {"hours": 0, "minutes": 30},
    "effort.consultation_nonclinician": {"hours": 0, "minutes": 15},
    "effort.segmentation_clinician": "unknown",
    "effort.segmentation_nonclinician": {"hours": 2, "minutes": 5},
    "effort.cad_clinician": {"hours": 0, "minutes": 0},
    "effort.cad_nonclinician": {"hours": 1, "minutes": 10},
    "effort.postprocessing_clinician": {"hours": 0, "minutes": 0},
    "effort.postprocessing_nonclinician": {"hours": 0, "minutes": 45},
    "assessment.confidence_before": "3",
    "assessment.confidence_after": "5",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def harvested_home(home: Path, copies: int = 1, token: str | None = None) -> App:
    """A home whose inbox got the demo jobs ``copies`` times (names optionally carrying a
    planted ``token`` in the folder, file and G-code object names), harvested into cases."""
    app = App.open(home)
    app.home.ensure()
    for n in range(copies):
        for job in sorted(p for p in DEMO_CASES.iterdir() if p.is_dir()):
            # a distinct lab job number per copy, so that each copy is its own case
            name = job.name.replace("2026-00", f"2026-{n}0") + (f"_{token}_folder" if token
                                                                else "")
            target = app.home.inbox / name
            shutil.copytree(job, target, ignore=NOT_JOB_FILES)
            if n:
                _make_distinct(target, n)
            if token:
                for path in sorted(p for p in target.rglob("*") if p.is_file()):
                    if path.suffix == ".gcode":
                        text = path.read_text(encoding="utf-8", errors="replace")
                        path.write_text(f"; printing object {token}_object id:0 copy 0\n"
                                        + text, encoding="utf-8")
                    path.rename(path.with_name(f"{token}_{path.name}"))
    outcome = app.harvester.harvest_paths([app.home.inbox], grouping="case")
    assert not outcome.errors, outcome.errors
    app.cases.ingest(outcome)
    return app


def _make_distinct(folder: Path, n: int) -> None:
    """Change each file's bytes harmlessly, so a copy is not a duplicate by content."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".stl":  # binary STL: the 80-byte header is free text
            path.write_bytes(data[:70] + f"copy{n:06d}".encode() + data[80:])
        elif data[128:132] == b"DICM":  # DICOM: the 128-byte preamble is free
            path.write_bytes(data[:10] + f"copy{n:06d}".encode() + data[20:])
        elif path.suffix == ".gcode":
            path.write_bytes(f"; copy {n}\n".encode() + data)
        # Other DICOM files have no free bytes to vary: the copy shares them (deduplicated).


def make_ready(app: App, values: dict[str, Any] | None = None) -> list[int]:
    """Fill every case with complete clinical values and mark it ready."""
    ids = [c.id for c in app.cases.list()]
    for case_id in ids:
        app.cases.set_values(case_id, dict(values or CLINICAL), "tester")
        with app.store.transaction():
            move(app.store, case_id, "ready", "tester")
    return ids


def accepted_per_case(state: EmulatorState) -> dict[str, int]:
    """How many accepted transactions the emulator holds for each registry case id."""
    counts: dict[str, int] = {}
    for item in state.transactions.values():
        if item["status"] == "accepted":
            counts[item["caseId"]] = counts.get(item["caseId"], 0) + 1
    return counts
