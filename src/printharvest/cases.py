"""Case service: ingest harvest outcomes into the store and read cases back.

A value the data manager typed always wins over a harvested one and is never overwritten
by a later harvest; a later harvest that disagrees shows up as a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .assembly import assemble
from .case import Case, Conflict, FieldValue
from .dictionary import Dictionary
from .exceptions import StoreError
from .harvest import HarvestedRecord, HarvestOutcome
from .imaging import series_keys
from .store import Store
from .store.imaging import save_series_keys, series_keys_for_case


@dataclass
class IngestReport:
    """What one ingest did."""

    new_records: int = 0
    duplicates: int = 0
    new_cases: list[int] = field(default_factory=list)
    updated_cases: list[int] = field(default_factory=list)


class CaseService:
    """Reads and writes cases through the store, keeping harvested fields up to date."""

    def __init__(self, store: Store, dictionary: Dictionary) -> None:
        self.store = store
        self.dictionary = dictionary

    def ingest(self, outcome: HarvestOutcome, actor: str = "harvest") -> IngestReport:
        """Store every record (one transaction each) and re-assemble the cases touched."""
        report = IngestReport()
        for item in outcome.items:
            self.ingest_one(item, report, actor)
        return report

    def ingest_one(self, item: HarvestedRecord, report: IngestReport, actor: str) -> None:
        """Store one record and update its case, atomically."""
        record = item.record
        if record.case_key is None:
            raise StoreError(f"{record.source.path}: record has no case key")
        with self.store.transaction():
            if self.store.has_record(record.source.sha256, record.source.index):
                report.duplicates += 1
                return
            case_id, created = self.store.ensure_case(record.case_key)
            record_id = self.store.insert_record(case_id, record, item.rule_notes)
            keys = series_keys(record)
            if keys is not None:
                save_series_keys(self.store, record_id, keys)
            self.store.log(case_id, actor, "record", None, None, str(record_id))
            self._reassemble(case_id)
        report.new_records += 1
        target = report.new_cases if created else report.updated_cases
        if case_id not in report.new_cases and case_id not in report.updated_cases:
            target.append(case_id)

    def _reassemble(self, case_id: int) -> None:
        records = self.store.records_for_case(case_id)
        self.store.replace_harvested_fields(
            case_id, assemble(records, series_keys_for_case(self.store, case_id)))
        self.store.touch_case(case_id)

    def get(self, case_id: int) -> Case:
        """One case with its records, effective fields, conflicts and missing elements."""
        row = self.store.case_row(case_id)
        stored = self.store.field_values(case_id)
        fields: dict[str, FieldValue] = {}
        conflicts: list[Conflict] = []
        for name, by_origin in sorted(stored.items()):
            user, harvested = by_origin.get("user"), by_origin.get("harvest")
            fields[name] = user or harvested  # type: ignore[assignment]
            if user is not None and harvested is not None and user.value != harvested.value:
                conflicts.append(Conflict(field=name, user_value=user.value,
                                          harvested_value=harvested.value))
        return Case(
            id=row.id, case_key=row.case_key, registry_id=row.registry_id,
            status=row.status,  # type: ignore[arg-type]
            created_at=row.created_at, updated_at=row.updated_at,
            records=[s.record for s in self.store.records_for_case(case_id)],
            fields=fields, conflicts=conflicts,
            missing=self.dictionary.missing({k: v.value for k, v in fields.items()}),
        )

    def list(self, status: str | None = None) -> list[Case]:
        """Every case, oldest first."""
        return [self.get(row.id) for row in self.store.case_rows(status)]

    def set_values(self, case_id: int, values: dict[str, Any], actor: str) -> Case:
        """Store values the data manager typed (None clears one)."""
        self.store.case_row(case_id)
        with self.store.transaction():
            for name, value in values.items():
                self.store.set_user_field(case_id, name, value, actor)
        return self.get(case_id)
