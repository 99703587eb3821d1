"""OctoPrint ``.metadata.json``: the per-folder file metadata OctoPrint keeps beside uploads.

The file maps each G-code file name to ``{"hash", "analysis": {"estimatedPrintTime",
"filament": {"tool0": {"length" (mm), "volume" (cm^3)}}}, "history": [{"timestamp",
"success", "printTime", "printerProfile"}], "statistics": {...}}``. Each history entry is one
print: one record each, ``source.index`` = its position over the whole file.

:func:`print_fields` is the one mapping from (analysis, one print) to record fields; the REST
poller (:mod:`printharvest.pollers.octoprint`) feeds it ``gcodeAnalysis`` and
``prints.last`` from ``GET /api/files``. File names (the JSON keys) often hold patient names
and are never read into a record.
"""

from __future__ import annotations

import json
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.units import amount, as_float, iso_time, seconds
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Material, Printer

MAX_FILE = 64 << 20


def print_fields(
    analysis: dict[str, Any] | None, entry: dict[str, Any], printer: Printer | None,
    warnings: list[str],
) -> dict[str, Any]:
    """HarvestRecord fields (all but ``source``) for one OctoPrint print of one file."""
    analysis = analysis if isinstance(analysis, dict) else {}
    success = entry.get("success")
    materials = []
    filament = analysis.get("filament")
    if isinstance(filament, dict):
        for tool in sorted(filament):
            used = filament[tool] if isinstance(filament[tool], dict) else {}
            length = amount("used_mm", used.get("length"))
            volume = amount("used_ml", used.get("volume"))
            if length or volume:  # tools that extruded nothing are unused slots
                if success is True:
                    materials.append(Material(role="model", used_mm=length, used_ml=volume))
                else:  # the analysis is the whole file's need, not what a stopped print used
                    materials.append(Material(role="model"))
    duration = seconds(entry.get("printTime"))
    finished = as_float(entry.get("timestamp") if "timestamp" in entry else entry.get("date"))
    started = finished - duration if finished is not None and duration is not None else None
    return {
        "printer": printer,
        "technology": "material_extrusion",
        "materials": materials,
        "print_time_s": seconds(analysis.get("estimatedPrintTime")),
        "print_duration_s": duration,
        "started_at": iso_time(started) if started else None,
        "finished_at": iso_time(finished) if finished else None,
        # OctoPrint records a cancelled print as success = false, like a failed one
        "outcome": ("success" if success else "failed") if isinstance(success, bool)
        else "unknown",
        "warnings": warnings,
    }


class OctoPrintMetadataConnector(FileConnector):
    """OctoPrint's ``.metadata.json``: one record per print in each file's history."""

    id = "octoprint_metadata"
    job_history = True
    label = "OctoPrint .metadata.json (file analysis and print history)"
    version = "1.0"
    patterns = (".metadata.json", "*.metadata.json")

    def detect(self, probe: FileProbe) -> float:
        """High when the head shows OctoPrint's analysis and history keys."""
        head = probe.head_text(256 * 1024)
        if not head.lstrip().startswith("{"):
            return 0.0
        keys = ('"estimatedPrintTime"', '"history"', '"printTime"', '"analysis"')
        hits = sum(k in head for k in keys)
        if hits >= 3:
            return 0.9
        return 0.4 if hits == 2 and probe.lower_name.endswith(".metadata.json") else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One record per history entry, in file order."""
        try:
            data = json.loads(probe.read_all(MAX_FILE))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptFileError(probe.display_path, "not valid JSON") from exc
        if not isinstance(data, dict):
            raise CorruptFileError(probe.display_path, "not an OctoPrint metadata object")
        records: list[HarvestRecord] = []
        for meta in data.values():
            if not isinstance(meta, dict):
                continue
            for entry in meta.get("history") or []:
                if isinstance(entry, dict):
                    fields = print_fields(meta.get("analysis"), entry, None, [])
                    records.append(self.new_record(probe, "print", index=len(records),
                                                   **fields))
        return records
