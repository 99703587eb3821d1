"""Example printharvest connector package: a lab's JSON Lines print log.

Each line of a ``*.printlog.jsonl`` file is one print job::

    {"log": "lab-print-log/1", "printer": {"model": "MK4S", "serial": "BENCH-1"},
     "material": "PETG", "used_g": 23.4, "seconds": 5400,
     "started": "2026-03-02T08:00:00+00:00", "result": "ok"}

One HarvestRecord per job line; ``source.index`` is the line's position (blank lines
counted). A bad line becomes a warning-only record or is skipped with a warning on the next
record, never a crash; a file without any job line is a one-line error.
"""

from __future__ import annotations

import json
from typing import Any

from printharvest import CorruptFileError, FileConnector, FileProbe, HarvestRecord
from printharvest.models import Material, Printer

TAG = "lab-print-log/1"
MAX_BYTES = 32 << 20
RESULTS = {"ok": "success", "failed": "failed", "cancelled": "aborted"}

__all__ = ["CONNECTORS", "LabPrintLogConnector"]


class LabPrintLogConnector(FileConnector):
    """Reads ``*.printlog.jsonl`` print logs."""

    id = "lab-print-log"
    label = "Lab JSON Lines print log (example package)"
    version = "1.0"
    patterns = ("*.printlog.jsonl",)

    def detect(self, probe: FileProbe) -> float:
        """Sure when the first line carries the log tag; weak from the name alone."""
        first = probe.head[:4096].split(b"\n", 1)[0]
        if b'"log"' in first and TAG.encode() in first:
            return 0.9
        return 0.3 if probe.matches(self.patterns) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record per job line."""
        text = probe.read_all(MAX_BYTES).decode("utf-8", errors="replace")
        records: list[HarvestRecord] = []
        for index, line in enumerate(text.splitlines()):
            if not line.strip():
                continue
            try:
                job = json.loads(line)
            except ValueError:
                job = None
            if not isinstance(job, dict) or job.get("log") != TAG:
                continue  # not a job line (a comment, a damaged line)
            records.append(self._record(probe, index, job))
        if not records:
            raise CorruptFileError(probe.display_path, "print log holds no job lines")
        return records

    def _record(self, probe: FileProbe, index: int, job: dict[str, Any]) -> HarvestRecord:
        warnings: list[str] = []

        def amount(key: str) -> float | None:
            value = job.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                warnings.append(f"{key} is not a non-negative number; left unknown")
                return None
            return float(value)

        found = job.get("printer")
        printer: dict[str, Any] = found if isinstance(found, dict) else {}
        material = job.get("material")
        seconds = amount("seconds")
        record = self.new_record(
            probe,
            "print",
            index=index,
            printer=Printer(manufacturer=printer.get("manufacturer"),
                            model=printer.get("model"), serial=printer.get("serial")),
            materials=[Material(name=str(material), role="model", used_g=amount("used_g"))]
            if material else [],
            print_duration_s=round(seconds) if seconds is not None else None,
            started_at=job.get("started") if isinstance(job.get("started"), str) else None,
            outcome=RESULTS.get(str(job.get("result")), "unknown"),
        )
        record.warnings.extend(warnings)
        return record


CONNECTORS = [LabPrintLogConnector]
