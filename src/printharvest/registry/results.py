"""The registry's answer to an upload file: which rows it loaded and which it refused.

NRDR loads upload files overnight and may accept some rows and reject others. The data manager
saves the result the registry gives back (a results file, or the rows copied from the NRDR
results page) as delimited text with one row per case: the case id, the status, and the
registry's message. Its exact column layout is not public, so this reader is deliberately
lenient: ``|``, tab, ``;`` or ``,`` between cells, an optional header line, and the status
words the registry's transaction vocabulary uses (``Posted``, ``ValidationFail``, ...) as well
as plain ``accepted`` / ``rejected``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from printharvest.cases.service import CaseService
from printharvest.cases.status import allowed, move
from printharvest.exceptions import RegistryError
from printharvest.registry.mapping import NrdrMapping
from printharvest.store.exports import ExportLog

ACCEPTED_WORDS = frozenset({"accepted", "accept", "success", "successful", "loaded", "ok"})
REJECTED_WORDS = frozenset({"rejected", "reject", "error", "failed", "fail", "invalid"})
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class ResultImport:
    """What importing one result file did."""

    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _meaning(word: str, mapping: NrdrMapping) -> str | None:
    known = mapping.meaning(word, records=True)
    if known in ("accepted", "rejected"):
        return known
    lowered = word.strip().lower()
    if lowered in ACCEPTED_WORDS:
        return "accepted"
    if lowered in REJECTED_WORDS:
        return "rejected"
    return None


def read_rows(path: Path) -> list[list[str]]:
    """The cells of a result file (RegistryError when it is not readable text)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RegistryError(f"{path.name}: larger than a registry result file can be")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RegistryError(f"cannot read {path.name} ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path.name}: not a text file (save the result as text)") from exc
    sample = text[:4096]
    delimiter = next((d for d in ("|", "\t", ";", ",") if d in sample), "|")
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text),
                                                                  delimiter=delimiter)
            if any(cell.strip() for cell in row)]


def import_results(path: Path, cases: CaseService, mapping: NrdrMapping,
                   actor: str = "registry-result") -> ResultImport:
    """Mark exported cases accepted or rejected as the registry's result file says.

    Only a case that was exported can take a result; a line naming any other id is reported
    and changes nothing. The registry's message goes into the case's audit and the export log.
    """
    result = ResultImport()
    by_registry_id = {c.registry_id: c for c in cases.list()}
    log = ExportLog(cases.store)
    store = cases.store
    for number, row in enumerate(read_rows(path), 1):
        if len(row) < 2:
            result.problems.append(f"line {number}: expected case id and status")
            continue
        case = by_registry_id.get(row[0])
        meaning = _meaning(row[1], mapping)
        if case is None:
            if number == 1 and meaning is None:
                continue  # a header line
            result.problems.append(f"line {number}: no case with registry id {row[0][:40]!r}")
            continue
        if meaning is None:
            result.problems.append(f"line {number}: unknown status {row[1][:40]!r}")
            continue
        if not log.for_case(case.id):
            result.problems.append(f"line {number}: case {case.id} was never exported")
            continue
        message = " ".join(row[2:])[:500]
        with store.transaction():
            log.set_result(case.id, meaning, message)
            # an answer about an exported version: a case edited since keeps its status
            if allowed(case.status, meaning):
                move(store, case.id, meaning, "registry")
            if message:
                store.log(case.id, "registry", "registry_message", None, None, message)
            store.log(case.id, actor, "upload_result", None, None, f"{meaning} ({path.name})")
        (result.accepted if meaning == "accepted" else result.rejected).append(case.id)
    return result
