"""Stratasys FDM printer status report (``status.sts``), saved to a file or read live.

The printer's status service answers ``GetFile status.sts`` with TCL-style text::

    set machineStatus(general) {
        modelerType paia
        ...
    }
    set machineStatus(currentJob) {
        jobName {some job}
        jobStatus completed
        startTime 1763712842
        estimatedBuildTime 21600
        partMatlName ABS-M30i
        ...
    }

:func:`parse_status` reads every section into a dict; :func:`job_fields` is the one mapping
from a ``currentJob`` / ``previousJob`` section to record fields, shared with the TCP poller
(:mod:`printharvest.pollers.stratasys`).

Units, as the status report gives them: times in seconds, consumed material in cubic inches
(converted to mL). Job names often hold patient names: ``jobName`` is never read into a
record, a warning or an error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.units import amount, as_float, as_int, iso_time, seconds
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Material, Printer
from printharvest.vocab import Outcome

CUBIC_INCH_ML = 16.387064
MAX_FILE = 8 << 20
JOB_SECTIONS = ("currentJob", "previousJob")
_SET = re.compile(r"^\s*set\s+machineStatus\((\w+)\)\s*\{", re.MULTILINE)
_FINISHED = {"completed": "success", "complete": "success", "done": "success",
             "finished": "success", "aborted": "aborted", "cancelled": "aborted",
             "canceled": "aborted", "failed": "failed", "error": "failed"}
MODELER_TYPES = {"paia": "uPrint SE", "kapaa": "Fortus 250mc", "waikiki": "Fortus 450mc"}
"""Internal modeler type codes seen in status reports and the printer family they name."""


def parse_status(text: str) -> dict[str, dict[str, str]]:
    """Every ``set machineStatus(SECTION) {...}`` block as {section: {key: value}}."""
    sections: dict[str, dict[str, str]] = {}
    for match in _SET.finditer(text):
        end = _matching_brace(text, match.end() - 1)
        if end is None:
            raise ValueError(f"section {match.group(1)} is not closed")
        sections[match.group(1)] = _pairs(text[match.end():end])
    return sections


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _words(body: str) -> list[str]:
    """TCL words: bare words, or brace groups (kept whole, outer braces removed)."""
    words: list[str] = []
    i = 0
    while i < len(body):
        if body[i].isspace():
            i += 1
        elif body[i] == "{":
            end = _matching_brace(body, i)
            end = len(body) if end is None else end
            words.append(body[i + 1:end])
            i = end + 1
        else:
            j = i
            while j < len(body) and not body[j].isspace():
                j += 1
            words.append(body[i:j])
            i = j
    return words


def _pairs(body: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in _logical_lines(body):
        words = _words(line)
        if len(words) >= 2:
            pairs[words[0]] = " ".join(words[1:]).strip()
        elif len(words) == 1:
            pairs[words[0]] = ""
    return pairs


def _logical_lines(body: str) -> list[str]:
    """Lines, with brace groups that span lines kept together."""
    lines: list[str] = []
    current = ""
    depth = 0
    for raw in body.splitlines():
        current = f"{current}\n{raw}" if current else raw
        depth += raw.count("{") - raw.count("}")
        if depth <= 0:
            lines.append(current)
            current, depth = "", 0
    if current:
        lines.append(current)
    return lines


def job_outcome(job: dict[str, str], section: str) -> Outcome | None:
    """The job's outcome, or None while it is still running (currentJob not finished)."""
    status = (job.get("jobStatus") or job.get("status") or "").strip().lower()
    if status in _FINISHED:
        return _FINISHED[status]  # type: ignore[return-value]
    if section == "previousJob":
        return "unknown"  # a previous job is over, whatever the printer calls it
    return None


def has_job(job: dict[str, str]) -> bool:
    """True when a job section describes a job (not an empty slot)."""
    return bool(job.get("startTime") or job.get("partMatlName"))


def job_start(job: dict[str, str]) -> str | None:
    """The job's start time as ISO 8601 (epoch seconds or a ctime-like string)."""
    raw = (job.get("startTime") or "").strip()
    found = iso_time(raw)
    if found is not None or not raw:
        return found
    for fmt in ("%a %b %d %H:%M:%S %Y", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC).isoformat(
                timespec="seconds")
        except ValueError:
            continue
    return None


def job_fields(
    sections: dict[str, dict[str, str]], section: str, warnings: list[str]
) -> dict[str, Any]:
    """HarvestRecord fields (all but ``source``) for one job section."""
    job = sections.get(section, {})
    general = sections.get("general", {})
    materials = []
    for role, name_key, used_key in (("model", "partMatlName", "partConsumed"),
                                     ("support", "supportMatlName", "supportConsumed")):
        name = (job.get(name_key) or "").strip()
        if name and name.lower() not in {"none", "unknown"}:
            used = as_float(job.get(used_key))
            used_ml = amount("used_ml", used * CUBIC_INCH_ML) if used is not None else None
            materials.append(Material(
                name=name, type=name, role=role,  # type: ignore[arg-type]
                used_ml=round(used_ml, 3) if used_ml is not None else None))
    start = job_start(job)
    if job.get("startTime") and start is None:
        warnings.append("startTime is not a readable time")
    model = (general.get("modelerModel") or general.get("printerModel") or
             MODELER_TYPES.get((general.get("modelerType") or "").lower()))
    elapsed = seconds(job.get("elapsedBuildTime") or job.get("buildTime"))
    finished = None
    if start and elapsed is not None:
        finished = iso_time(datetime.fromisoformat(start).timestamp() + elapsed)
    return {
        "printer": Printer(manufacturer="Stratasys", model=model or None,
                           serial=(general.get("serialNumber") or "").strip() or None),
        "technology": "material_extrusion",  # the status service is FDM-only
        "materials": materials,
        "print_time_s": seconds(job.get("estimatedBuildTime")),
        "print_duration_s": elapsed,
        "started_at": start,
        "finished_at": finished,
        "outcome": job_outcome(job, section),
        "part_count": as_int(job.get("numParts")) or None,
        "warnings": warnings,
    }


def finished_jobs(sections: dict[str, dict[str, str]]) -> list[str]:
    """The job sections that hold a finished job, oldest first (previousJob, currentJob)."""
    found = []
    for section in ("previousJob", "currentJob"):
        job = sections.get(section, {})
        if has_job(job) and job_outcome(job, section) is not None:
            found.append(section)
    return found


class StratasysStatusConnector(FileConnector):
    """A saved ``status.sts``: one record per finished job in previousJob/currentJob."""

    id = "stratasys_status"
    job_history = True
    label = "Stratasys FDM status report (status.sts)"
    version = "1.0"
    patterns = ("*.sts", "status.sts")

    def detect(self, probe: FileProbe) -> float:
        """High when the head holds ``set machineStatus(...)`` blocks."""
        head = probe.head_text(64 * 1024)
        if _SET.search(head):
            return 0.95 if "machineStatus(currentJob)" in head or probe.matches(
                self.patterns) else 0.8
        return 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """Records for the finished jobs, ``source.index`` 0 = previousJob, 1 = currentJob."""
        text = probe.read_all(MAX_FILE).decode("utf-8", errors="replace")
        try:
            sections = parse_status(text)
        except ValueError as exc:
            raise CorruptFileError(probe.display_path, f"status report is cut off ({exc})"
                                   ) from exc
        if not any(s in sections for s in JOB_SECTIONS):
            raise CorruptFileError(probe.display_path, "no currentJob or previousJob section")
        return [self.new_record(probe, "print", index=JOB_SECTIONS[::-1].index(section),
                                **job_fields(sections, section, []))
                for section in finished_jobs(sections)]
