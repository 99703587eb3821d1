"""Moonraker job history: a copied ``moonraker-sql.db`` (SQLite, table ``job_history``).

Moonraker's history component keeps one row per job: ``job_id`` (integer; the API shows it
as six hex digits), ``user``, ``filename``, ``status``, ``start_time`` / ``end_time`` (Unix
seconds), ``print_duration``, ``total_duration`` (s), ``filament_used`` (mm), ``metadata``
(JSON: the slicer's ``estimated_time``, ``layer_height``, ``filament_type``,
``filament_name``, ``filament_weight_total``, ``slicer``, ``slicer_version``, ...),
``auxiliary_data`` and ``instance_id``. ``GET /server/history/list`` answers the same rows as
JSON, so :func:`job_fields` maps both (the poller is :mod:`printharvest.pollers.moonraker`).

The database is opened read-only with SQLite's ``immutable`` URI flag: printharvest never
writes to it, not even a journal. File names and user names are never read into a record.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.units import amount, as_float, iso_time, seconds
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Material, Printer, Slicer
from printharvest.vocab import Outcome

SQLITE_MAGIC = b"SQLite format 3\x00"
_STATUS: dict[str, Outcome] = {
    "completed": "success", "cancelled": "aborted", "error": "failed",
    "klippy_shutdown": "failed", "klippy_disconnect": "failed", "interrupted": "failed",
    "server_exit": "failed",
}
UNFINISHED = {"in_progress"}


def _metadata(value: Any) -> dict[str, Any]:
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def spool_ids(auxiliary: Any) -> str | None:
    """Spoolman spool ids from a job's ``auxiliary_data`` (provider ``spoolman``).

    Moonraker's history keeps, per job, a list of ``{provider, name, value, ...}`` entries;
    with Spoolman configured one is ``{"provider": "spoolman", "name": "spool_ids", "value":
    [ids]}``. The ids are the lab's spools (its lot question), never a file or user name.
    """
    entries = auxiliary
    if isinstance(entries, bytes | bytearray | str):
        try:
            entries = json.loads(entries)
        except ValueError:
            return None
    if not isinstance(entries, list):
        return None
    ids: list[str] = []
    for entry in entries:
        if (isinstance(entry, dict) and entry.get("provider") == "spoolman"
                and entry.get("name") == "spool_ids" and isinstance(entry.get("value"), list)):
            ids.extend(str(v) for v in entry["value"]
                       if isinstance(v, int) and not isinstance(v, bool))
    return ", ".join(dict.fromkeys(ids)) or None


def is_finished(job: dict[str, Any]) -> bool:
    """False while Moonraker still records the job as in progress."""
    return str(job.get("status") or "") not in UNFINISHED


def job_fields(job: dict[str, Any], printer: Printer | None, warnings: list[str]
               ) -> dict[str, Any]:
    """HarvestRecord fields (all but ``source``) for one Moonraker history job."""
    meta = _metadata(job.get("metadata"))
    status = str(job.get("status") or "")
    outcome: Outcome | None = _STATUS.get(status, "unknown" if status else None)
    used_mm = amount("used_mm", job.get("filament_used"))
    materials = []
    if used_mm:
        kind = str(meta.get("filament_type") or "").strip() or None
        name = str(meta.get("filament_name") or "").strip() or None
        materials.append(Material(name=name or kind, type=kind, role="model", used_mm=used_mm,
                                  lot=spool_ids(job.get("auxiliary_data")),
                                  # the slicer's weight is for the whole file
                                  used_g=amount("used_g", meta.get("filament_weight_total"))
                                  if outcome == "success" else None))
    slicer = None
    if meta.get("slicer"):
        version = meta.get("slicer_version")
        slicer = Slicer(name=str(meta["slicer"]), version=str(version) if version else None)
    return {
        "slicer": slicer,
        "printer": printer,
        "technology": "material_extrusion",
        "materials": materials,
        "layer_height_mm": amount("layer_height_mm", meta.get("layer_height")) or None,
        "print_time_s": seconds(meta.get("estimated_time")),
        "print_duration_s": seconds(job.get("total_duration")),
        "started_at": iso_time(as_float(job.get("start_time"))),
        "finished_at": iso_time(as_float(job.get("end_time"))),
        "outcome": outcome,
        "warnings": warnings,
    }


def read_history(path: str) -> list[dict[str, Any]]:
    """Every ``job_history`` row of the database at ``path``, opened read-only, immutable."""
    from pathlib import Path

    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM job_history ORDER BY job_id").fetchall()
        return [dict(row) for row in rows]
    finally:
        conn.close()


class MoonrakerHistoryConnector(FileConnector):
    """A copied ``moonraker-sql.db``: one record per finished job of ``job_history``."""

    id = "moonraker_history"
    job_history = True
    label = "Moonraker job history (moonraker-sql.db)"
    version = "1.0"
    patterns = ("moonraker-sql.db", "*.db", "*.sqlite")

    def detect(self, probe: FileProbe) -> float:
        """High for an SQLite file whose schema (in the head) names ``job_history``."""
        if not probe.head.startswith(SQLITE_MAGIC):
            return 0.0
        return 0.9 if b"job_history" in probe.head else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One record per finished job; ``source.index`` = the row's position."""
        try:
            rows = read_history(str(probe.path))
        except sqlite3.Error as exc:
            raise CorruptFileError(probe.display_path,
                                   f"cannot read job_history ({type(exc).__name__})") from exc
        return [self.new_record(probe, "print", index=i, **job_fields(row, None, []))
                for i, row in enumerate(rows) if is_finished(row)]
