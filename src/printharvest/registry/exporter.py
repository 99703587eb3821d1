"""Exports of ready cases: batch upload files (psv, xlsx), NRDR JSON, printable case sheets.

Only ``ready`` cases export (a sheet may show any case). Each export is recorded per case:
a row in ``registry_exports``, an audit entry, and the status ``exported``. Files are named
``3dp_case_<export id>`` with a generated id, never a case key.
"""

from __future__ import annotations

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
from printharvest.cases.status import move
from printharvest.dictionary.elements import Dictionary
from printharvest.exceptions import (
    ConfigError,
    PrintharvestError,
    RegistryError,
)
from printharvest.privacy.egress import EgressGuard, release
from printharvest.privacy.files import open_private
from printharvest.registry.layout import LAYOUT_FILE, UploadLayout, expand, rows, uncovered
from printharvest.registry.mapping import NrdrMapping, to_record
from printharvest.registry.outgoing import OutgoingStep, Prepared
from printharvest.registry.sheet import sheet_html
from printharvest.registry.upload import UploadFile, psv_files, xlsx_files
from printharvest.registry.values import element_values
from printharvest.store.exports import ExportLog

ExportFormat = Literal["psv", "xlsx", "json", "sheet"]
SUFFIX = {"psv": ".txt", "xlsx": ".xlsx", "json": ".json", "sheet": ".html"}


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
                 local_roots: Sequence[Path] = (), max_bytes: int = 40 * 1024 * 1024,
                 facility_id: str | None = None) -> None:
        self.cases = cases
        self.outgoing = OutgoingStep(cases, rules_dir, local_roots)
        self.dictionary: Dictionary = cases.dictionary
        self.rules_dir = rules_dir
        self.exports_dir = exports_dir
        self.local_roots = tuple(local_roots)
        self.max_bytes = max_bytes
        self.facility_id = facility_id

    def mapping(self) -> NrdrMapping:
        """The NRDR mapping, checked against the dictionary (coverage included)."""
        return self.outgoing.mapping()

    def record(self, case: Case, mapping: NrdrMapping) -> dict[str, Any]:
        """A case as an NRDR case record."""
        return to_record(case, element_values(case, self.dictionary), mapping, self.dictionary)

    def guard(self, cases: Sequence[Case]) -> EgressGuard:
        """The egress guard for ``cases`` (the outgoing step's)."""
        return self.outgoing.guard(cases)

    def export(self, fmt: ExportFormat, ids: Sequence[int] = (), header: bool | None = None,
               actor: str = "export", again: bool = False) -> ExportResult:
        """Write one export; record it per case unless it is a case sheet. ``again`` lets
        cases exported before go out once more."""
        result = ExportResult(new_export_id())
        mapping = self.mapping()
        prepared = self.outgoing.prepare(ids, any_status=(fmt == "sheet" and bool(ids)),
                                         mapping=mapping, again=again)
        result.skipped = prepared.skipped
        chosen = prepared.cases
        if not chosen:
            return result
        guard = self.guard(chosen)
        hashes = {item.case.id: item.version for item in prepared.items}
        uploads = self._files(fmt, prepared, header, guard, mapping, result)
        base = f"3dp_case_{result.export_id}"
        # a split file keeps the 3dp_case_<alphanumeric> name: the part number is appended
        # as "p<n>", never after an underscore the registry's loader would not accept
        named = [(self.exports_dir / (base + (f"p{n}" if len(uploads) > 1 else "") + SUFFIX[fmt]),
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

    def _files(self, fmt: ExportFormat, prepared: Prepared, header: bool | None,
               guard: EgressGuard, mapping: NrdrMapping,
               result: ExportResult) -> list[UploadFile]:
        chosen = prepared.cases
        if fmt == "json":
            body = {"mapping": mapping.mapping.version, "header": dict(mapping.header),
                    "cases": [item.record for item in prepared.items]}
            data = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            return [UploadFile(release(data, guard, "JSON export"), list(range(len(chosen))))]
        if fmt == "sheet":
            html = sheet_html(chosen, self.dictionary).encode("utf-8")
            return [UploadFile(release(html, guard, "case sheet"), list(range(len(chosen))))]
        layout = UploadLayout.load(self.rules_dir)
        columns = expand(layout, self.dictionary)
        lost_elements = uncovered(columns, self.dictionary)
        if lost_elements:  # checked before any case: a layout gap never drops a value quietly
            raise ConfigError(f"{LAYOUT_FILE}: no column for dictionary element(s) "
                              f"{', '.join(lost_elements)}")
        if any(c.setting == "facility_id" for c in columns) and not self.facility_id:
            result.warnings.append("the upload layout has a facility id column but "
                                   "printharvest.yaml sets no nrdr: facility_id")
        with_header = layout.format.header_row if header is None else header
        names = [c.name for c in columns] if with_header else None
        typed = [(item.case, item.values) for item in prepared.items]
        covered = {c.field for c in columns if c.field is not None}
        for case, values in typed:
            lost = sorted(set(values) - covered)
            if lost:  # never drop a value silently: the layout must have a column for it
                raise RegistryError(f"case {case.id}: the upload layout has no column for "
                                    f"{', '.join(lost)}")
        table = rows(columns, typed, layout.format, {"facility_id": self.facility_id})
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
                    move(store, case.id, "exported", actor)


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
