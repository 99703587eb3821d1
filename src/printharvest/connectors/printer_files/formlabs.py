"""Formlabs print runs: a saved Web API ``/prints/`` page (or a plain list of print runs).

The Web API (``GET /developer/v1/prints/``) answers ``{"count", "next", "previous",
"results": [...]}``; each result is one print run with ``volume_ml``, ``layer_count``,
``material`` (a material code such as ``FLGPGR05``), ``layer_thickness_mm``,
``print_started_at`` / ``print_finished_at``, ``estimated_duration_ms`` /
``elapsed_duration_ms``, ``status``, ``print_run_success``, ``printer`` (serial) and
``parts``. :func:`print_run_fields` is the one mapping from a print run to record fields; the
Web API poller (:mod:`printharvest.pollers.formlabs`) uses it too.

A print run's ``name`` and its parts' names are file names that often hold patient names:
they are never read into a record.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.units import amount, as_int, iso_time, ms_to_s
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Material, Part, Printer
from printharvest.vocab import Outcome, Technology

MAX_FILE = 64 << 20
_RUN_KEYS = ("print_started_at", "layer_thickness_mm", "estimated_duration_ms", "volume_ml")

MACHINE_MODELS = {
    "FORM-2": "Form 2", "FORM-3": "Form 3", "FRMB-3": "Form 3B", "FRBL-3": "Form 3BL",
    "FRML-3": "Form 3L", "FORM-4": "Form 4", "FRMB-4": "Form 4B", "FRML-4": "Form 4L",
    "FRBL-4": "Form 4BL", "FS30-1": "Fuse 1", "PILK-1": "Fuse 1+ 30W",
}
"""Machine type id prefixes (``FORM-4-0`` -> ``FORM-4``) and the printer model they name."""


def machine_technology(machine_type: str | None) -> Technology | None:
    """FORM-*/FRM*/FRBL* (and the resin-only DGSR) are SLA; FS30/PILK (Fuse) are SLS."""
    if not machine_type:
        return None
    code = machine_type.upper()
    if code.startswith(("FS30", "PILK")):
        return "powder_bed_fusion"
    if code.startswith(("FORM", "FRM", "FRB", "DGSR")):
        return "vat_photopolymerization"
    return None


def machine_model(machine_type: str | None) -> str | None:
    """The printer model a machine type id names, e.g. ``FRMB-3-1`` -> ``Form 3B``."""
    if not machine_type:
        return None
    return MACHINE_MODELS.get("-".join(machine_type.upper().split("-")[:2]))


@lru_cache(maxsize=1)
def material_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Material code -> (label, machine types), from the shipped TSV (see its header)."""
    text = resources.files(__package__).joinpath("data/formlabs_materials.tsv").read_text(
        encoding="utf-8")
    table: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("material_code\t"):
            continue
        code, label, machines = [*line.split("\t"), "", ""][:3]
        table[code.strip().upper()] = (label.strip(), tuple(
            m.strip() for m in machines.split(",") if m.strip()))
    return table


def material_technology(code: str | None) -> Technology | None:
    """The technology every machine type of a material code agrees on, else None."""
    entry = material_table().get((code or "").upper())
    if entry is None:
        return None
    found = {machine_technology(m) for m in entry[1]}
    return found.pop() if len(found) == 1 else None


def _outcome(run: dict[str, Any]) -> Outcome | None:
    success = run.get("print_run_success")
    if isinstance(success, dict):  # newer responses nest the verdict
        success = success.get("print_run_success")
    if isinstance(success, bool):
        return "success" if success else "failed"
    if isinstance(success, str) and success.strip():
        verdict = success.strip().upper()
        if verdict in {"SUCCESS", "SUCCEEDED", "TRUE"}:
            return "success"
        if verdict in {"FAILURE", "FAILED", "FALSE"}:
            return "failed"
    status = str(run.get("status") or "").upper()
    if status in {"ABORTED", "ABORTING"}:
        return "aborted"
    if status == "ERROR":
        return "failed"
    if status == "FINISHED":
        return "success"
    return "unknown" if status else None


def is_finished(run: dict[str, Any]) -> bool:
    """True once a print run is over (finished, aborted or errored)."""
    status = str(run.get("status") or "").upper()
    if status:
        return status in {"FINISHED", "ABORTED", "ERROR"}
    return bool(run.get("print_finished_at"))


def print_run_fields(run: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """HarvestRecord fields (all but ``source``) for one Formlabs print run."""
    code = str(run.get("material") or "").strip() or None
    label = material_table().get((code or "").upper(), (None, ()))[0]
    name = label or (str(run["material_name"]).strip() if run.get("material_name") else None)
    if code and label is None:
        warnings.append("material code not in the Formlabs material table")
    machine = str(run.get("machine_type_id") or run.get("machine_type") or "").strip() or None
    technology = machine_technology(machine) or material_technology(code)
    volume = amount("used_ml", run.get("volume_ml"))
    outcome = _outcome(run)
    materials: list[Material] = []
    if code or name:
        # the run's volume is what a whole print uses; a run that stopped used less
        materials.append(Material(
            name=name or code, code=code, role="model",
            used_ml=volume if outcome == "success" else None,
            type="powder" if technology == "powder_bed_fusion" else "resin",
            lot=_containers(run)))
    serial = str(run.get("printer") or "").strip() or None
    parts = [p for p in run.get("parts") or [] if isinstance(p, dict)]
    return {
        "printer": Printer(manufacturer="Formlabs", model=machine_model(machine), serial=serial),
        "technology": technology,
        "materials": materials,
        "layer_height_mm": amount("layer_height_mm", run.get("layer_thickness_mm")),
        "print_time_s": ms_to_s(run.get("estimated_duration_ms")),
        "print_duration_s": ms_to_s(run.get("elapsed_duration_ms")),
        "started_at": iso_time(run.get("print_started_at")),
        "finished_at": iso_time(run.get("print_finished_at")),
        "outcome": outcome,
        # part names are the lab's file names (PHI risk): only volumes are kept
        "part_count": len(parts) if parts else None,
        "parts": [Part(volume_ml=amount("volume_ml", p.get("volume_ml"))) for p in parts],
        "volume_ml": volume,
        "warnings": warnings,
    }


def _containers(run: dict[str, Any]) -> str | None:
    """The resin cartridge and tank serials of a run (the lot a recall asks about)."""
    serials = []
    for key in ("cartridge", "tank"):
        value = run.get(key)
        if isinstance(value, dict):  # some responses nest the serial: {"serial": ...}
            value = value.get("serial")
        if isinstance(value, str) and value.strip():
            serials.append(value.strip())
    return ", ".join(serials) or None


def print_runs(data: Any) -> list[dict[str, Any]] | None:
    """The print runs of a saved page (``{"results": [...]}``) or list, else None."""
    items = data.get("results") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    if items and not all(isinstance(i, dict) for i in items):
        return None
    return items


class FormlabsPrintsConnector(FileConnector):
    """A saved Formlabs Web API ``/prints/`` page: one record per print run."""

    id = "formlabs_prints"
    job_history = True
    label = "Formlabs Web API prints (saved JSON)"
    version = "1.0"
    patterns = ("*.json",)

    def detect(self, probe: FileProbe) -> float:
        """High when the JSON head names several Formlabs print-run keys."""
        head = probe.head_text(256 * 1024).lstrip()
        if not head.startswith(("{", "[")):
            return 0.0
        hits = sum(f'"{key}"' in head for key in _RUN_KEYS)
        if hits >= 3:
            return 0.9
        return 0.3 if hits == 2 else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record per run, ``source.index`` = the run's position."""
        try:
            data = json.loads(probe.read_all(MAX_FILE))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptFileError(probe.display_path, "not valid JSON") from exc
        runs = print_runs(data)
        if runs is None:
            raise CorruptFileError(probe.display_path, "no list of Formlabs print runs")
        records = []
        for index, run in enumerate(runs):
            fields = print_run_fields(run, [])
            if as_int(run.get("layer_count")) == 0:
                fields["warnings"].append("print run has no layers")
            records.append(self.new_record(probe, "print", index=index, **fields))
        return records
