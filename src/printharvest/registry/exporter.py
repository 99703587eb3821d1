"""Exports of ready cases: batch upload files (psv, xlsx), NRDR JSON, printable case sheets.

Only ``ready`` cases export (a sheet may show any case). Each export is recorded per case:
a row in ``registry_exports``, an audit entry, and the status ``exported``. Files are named
``3dp_case_<export id>`` with a generated id, never a case key.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from printharvest.cases.model import Case
from printharvest.cases.service import CaseService
from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.validation import validate
from printharvest.exceptions import EgressError, PrintharvestError, RegistryError, ValidationError
from printharvest.privacy.egress import EgressGuard, check_values, release
from printharvest.privacy.files import open_private
from printharvest.registry.layout import UploadLayout, expand, rows
from printharvest.registry.mapping import NrdrMapping, to_record
from printharvest.registry.sheet import sheet_html
from printharvest.registry.upload import UploadFile, psv_files, xlsx_files
from printharvest.registry.values import element_values
from printharvest.store.exports import ExportLog

ExportFormat = Literal["psv", "xlsx", "json", "sheet"]
SUFFIX = {"psv": ".txt", "xlsx": ".xlsx", "json": ".json", "sheet": ".html"}


def problems_for(case: Case, dictionary: Dictionary) -> list[str]:
    """Why ``case`` cannot go to the registry yet (empty: it can).

    The one validator the CLI and the web page use (required, conditions, allowed values,
    ranges, repeat limits), plus values that cannot be written in their element's type.
    """
    problems = [str(problem) for problem in validate(case, dictionary)]
    try:
        element_values(case, dictionary)
    except ValidationError as exc:
        problems.append(str(exc))
    return problems


def version_hash(record: dict[str, Any]) -> str:
    """A stable hash of a case record: the same values give the same hash."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_export_id() -> str:
    """A generated, unique export id (time plus randomness; no case data)."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)


@dataclass
class ExportResult:
    """What one export wrote, which cases it holds, and what it skipped."""

    export_id: str
    files: list[Path] = field(default_factory=list)
    cases: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Exporter:
    """Writes registry files for cases into the exports folder."""

    def __init__(self, cases: CaseService, rules_dir: Path | None, exports_dir: Path,
                 local_roots: Sequence[Path] = (), max_bytes: int = 40 * 1024 * 1024) -> None:
        self.cases = cases
        self.dictionary: Dictionary = cases.dictionary
        self.rules_dir = rules_dir
        self.exports_dir = exports_dir
        self.local_roots = tuple(local_roots)
        self.max_bytes = max_bytes

    def mapping(self) -> NrdrMapping:
        """The NRDR mapping, checked against the dictionary."""
        mapping = NrdrMapping.load(self.rules_dir)
        mapping.check(self.dictionary)
        return mapping

    def record(self, case: Case, mapping: NrdrMapping) -> dict[str, Any]:
        """A case as an NRDR case record."""
        return to_record(case, element_values(case, self.dictionary), mapping, self.dictionary)

    def select(self, ids: Sequence[int], any_status: bool = False) -> tuple[list[Case],
                                                                            list[tuple[int, str]]]:
        """The cases to export (given ids, or every ready case) and the ones skipped, why."""
        chosen = ([self.cases.get(i) for i in ids] if ids else self.cases.list("ready"))
        good: list[Case] = []
        skipped: list[tuple[int, str]] = []
        for case in chosen:
            if not any_status and case.status != "ready":
                skipped.append((case.id, f"status is {case.status}, only ready cases export"))
                continue
            problems = [] if any_status else problems_for(case, self.dictionary)
            if problems:
                skipped.append((case.id, "; ".join(problems)))
                continue
            good.append(case)
        return good, skipped

    def guard(self, cases: Sequence[Case]) -> EgressGuard:
        """The egress guard for ``cases`` (their names forbidden, the dictionary's words not)."""
        guard = EgressGuard.for_cases(cases, self.local_roots)
        guard.allow(v for e in self.dictionary.elements for v in e.values)
        return guard

    def releasable(self, cases: Sequence[Case], skipped: list[tuple[int, str]]) -> list[Case]:
        """The cases whose every value may leave; the others go to ``skipped`` with the element
        that holds a name or path (so the data manager can correct it)."""
        good: list[Case] = []
        for case in cases:
            try:
                check_values(element_values(case, self.dictionary), self.guard([case]),
                             f"case {case.registry_id}")
            except EgressError as exc:
                skipped.append((case.id, str(exc)))
                continue
            good.append(case)
        return good

    def export(self, fmt: ExportFormat, ids: Sequence[int] = (), header: bool | None = None,
               actor: str = "export") -> ExportResult:
        """Write one export; record it per case unless it is a case sheet."""
        result = ExportResult(new_export_id())
        chosen, result.skipped = self.select(ids, any_status=(fmt == "sheet" and bool(ids)))
        chosen = self.releasable(chosen, result.skipped)
        if not chosen:
            return result
        guard = self.guard(chosen)
        mapping = self.mapping()
        hashes = {c.id: version_hash(self.record(c, mapping)) for c in chosen}
        uploads = self._files(fmt, chosen, header, guard, mapping, result)
        base = f"3dp_case_{result.export_id}"
        named = [(self.exports_dir / (base + (f"_{n}" if len(uploads) > 1 else "") + SUFFIX[fmt]),
                  upload) for n, upload in enumerate(uploads, 1)]
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        try:
            for path, upload in named:
                _write_new(path, upload.data)
                written.append(path)
            if fmt != "sheet":
                self._record(fmt, chosen, named, hashes, result.export_id, actor)
        except (OSError, PrintharvestError) as exc:
            for path in written:
                path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise RegistryError(f"cannot write the export ({exc.strerror})") from exc
            raise
        result.files = [p for p, _ in named]
        result.cases = [c.id for c in chosen]
        return result

    def _files(self, fmt: ExportFormat, chosen: list[Case], header: bool | None,
               guard: EgressGuard, mapping: NrdrMapping,
               result: ExportResult) -> list[UploadFile]:
        if fmt == "json":
            body = {"mapping": mapping.mapping.version, "header": dict(mapping.header),
                    "cases": [self.record(c, mapping) for c in chosen]}
            data = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            return [UploadFile(release(data, guard, "JSON export"), list(range(len(chosen))))]
        if fmt == "sheet":
            html = sheet_html(chosen, self.dictionary).encode("utf-8")
            return [UploadFile(release(html, guard, "case sheet"), list(range(len(chosen))))]
        layout = UploadLayout.load(self.rules_dir)
        columns = expand(layout, self.dictionary)
        with_header = layout.format.header_row if header is None else header
        names = [c.name for c in columns] if with_header else None
        typed = [(c, element_values(c, self.dictionary)) for c in chosen]
        covered = {c.field for c in columns if c.field is not None}
        for case, values in typed:
            lost = sorted(set(values) - covered)
            if lost:  # never drop a value silently: the layout must have a column for it
                raise RegistryError(f"case {case.id}: the upload layout has no column for "
                                    f"{', '.join(lost)}")
        table = rows(columns, typed, layout.format)
        writer = psv_files if fmt == "psv" else xlsx_files
        files, warnings = writer(names, table, self.max_bytes, guard)
        result.warnings.extend(warnings)
        return files

    def _record(self, fmt: str, chosen: list[Case], named: list[tuple[Path, UploadFile]],
                hashes: dict[int, str], export_id: str, actor: str) -> None:
        log = ExportLog(self.cases.store)
        store = self.cases.store
        with store.transaction():
            for path, upload in named:
                for index in upload.rows:
                    case = chosen[index]
                    log.record(export_id, case.id, fmt, path.name, hashes[case.id], actor)
                    store.log(case.id, actor, "export", None, None, f"{fmt} {path.name}")
                    store.set_status(case.id, "exported", actor)


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file atomically (temporary name, then rename); never overwrite one."""
    if path.exists():
        raise RegistryError(f"{path.name} exists already")
    temporary = path.with_name(path.name + ".part")
    with open_private(temporary, "wb") as handle:  # exports name cases: owner-only
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
