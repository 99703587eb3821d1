"""Case service: ingest harvest outcomes into the store, read cases back, and move them
through their workflow.

A value the data manager typed always wins over a harvested one and is never overwritten
by a later harvest. Typing over a harvested value settles it against that value; a later
harvest that says something else shows up as a conflict until the data manager keeps the
typed value or takes the harvested one.

Status: ``needs_clinical`` -> ``ready`` (only when the case validates) -> ``exported`` /
``submitted`` -> ``accepted`` / ``rejected``; the table and the one writer are in
:mod:`printharvest.cases.status`. Every change goes to the audit log.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, Literal

from printharvest.cases.assembly import COUNTED_RECORDS, NOT_SUCCEEDED, Assembler
from printharvest.cases.model import CASE_STATUSES, Case, Conflict, FieldValue
from printharvest.cases.status import REGISTRY_ANSWERS, StatusTransitionError, allowed, move
from printharvest.connectors.dicom.series import series_keys
from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.validation import CaseNotReadyError, Problem, validate
from printharvest.exceptions import StoreError, ValidationError
from printharvest.harvest.harvester import HarvestedRecord, HarvestOutcome
from printharvest.rules.anatomy import AnatomyRules
from printharvest.rules.lab import Rules
from printharvest.store import CaseRow, Store, StoredRecord
from printharvest.store.batch import acknowledged_by_case, field_values_by_case, records_by_case
from printharvest.store.imaging import save_series_keys, series_keys_for_case
from printharvest.store.links import (
    cases_of_record,
    link,
    records_of_kinds,
    records_with_content,
    save_contents,
)
from printharvest.store.links import record_id as record_id_of
from printharvest.store.revisions import record_at_path, replace_record
from printharvest.store.workflow import (
    acknowledge_conflict,
    acknowledged_conflicts,
    status_counts,
)

RESEND_STATUSES = ("submitted", "accepted")
"""Statuses whose cases the registry holds: an edit goes again as an update, with a reason."""


LINKABLE_KINDS = ("imaging", "mesh", "segmentation")
"""Records that may belong to several cases. A print is one job of one case: the same job file
in a second job folder is a duplicate, not a second print (nor a second case's print)."""


@dataclass
class IngestReport:
    """What one ingest did."""

    new_records: int = 0
    duplicates: int = 0
    new_cases: list[int] = field(default_factory=list)
    updated_cases: list[int] = field(default_factory=list)


class CaseService:
    """Reads and writes cases through the store, keeping harvested fields up to date."""

    def __init__(self, store: Store, dictionary: Dictionary, rules: Rules | None = None,
                 anatomy: AnatomyRules | None = None) -> None:
        self.store = store
        self.dictionary = dictionary
        self.assembler = Assembler(dictionary, rules or Rules(), anatomy or AnatomyRules())

    # -- harvest ------------------------------------------------------------------------

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
            known = record_id_of(self.store, record.source.sha256, record.source.index)
            if known is not None:
                # Harvested once per content, but it may belong to this job's case too (the
                # same DICOM series behind a model and, later, a guide).
                report.duplicates += 1
                if record.kind in LINKABLE_KINDS:
                    self.link_record(known, record.case_key, report, actor)
                return
            earlier = (record_at_path(self.store, record.source.path, record.source.index,
                                      record.kind)
                       if record.kind != "imaging" else None)  # imaging: a folder's set
            if earlier is not None:
                # The same file again with more (or new) content: update its record, never
                # keep the fragment read before beside the whole.
                record_id, case_id = earlier
                created = False
                old_sha = replace_record(self.store, record_id, record, item.rule_notes)
                self.store.log(case_id, actor, "record updated", None, old_sha[:12],
                               record.source.sha256[:12])
            else:
                case_id, created = self.store.ensure_case(record.case_key)
                record_id = self.store.insert_record(case_id, record, item.rule_notes)
            save_contents(self.store, record_id, item.contents)
            keys = series_keys(record)
            if keys is not None:
                save_series_keys(self.store, record_id, keys)
            if earlier is None:
                self.store.log(case_id, actor, "record", None, None, str(record_id))
            self._reassemble(case_id, actor)
        report.new_records += 1
        target = report.new_cases if created else report.updated_cases
        if case_id not in report.new_cases and case_id not in report.updated_cases:
            target.append(case_id)

    def link_record(self, record_id: int, case_key: str, report: IngestReport,
                    actor: str) -> bool:
        """Link a stored record to the case ``case_key`` as well (inside a transaction when
        called from ingest); True when the link is new. The case is created if needed."""
        with self.store.transaction():
            case_id, created = self.store.ensure_case(case_key)
            if not link(self.store, record_id, case_id):
                return False
            self.store.log(case_id, actor, "link", None, None, str(record_id))
            self._reassemble(case_id, actor)
        target = report.new_cases if created else report.updated_cases
        if case_id not in report.new_cases and case_id not in report.updated_cases:
            target.append(case_id)
        return True

    def link_content(self, sha256: str, case_key: str, actor: str) -> list[int]:
        """A file already harvested turned up in another job: link every record read from it
        to that job's case. Returns the cases the content belongs to (its first case first)."""
        report = IngestReport()
        records = records_with_content(self.store, sha256)
        for record_id in records_of_kinds(self.store, records, LINKABLE_KINDS):
            self.link_record(record_id, case_key, report, actor)
        return list(dict.fromkeys(c for r in records for c in cases_of_record(self.store, r)))

    def relocate(self, old: str, new: str, actor: str) -> None:
        """A harvested original moved (into the archive): provenance follows it."""
        with self.store.transaction():
            for case_id in self.store.relocate_records(old, new):
                self._reassemble(case_id, actor)

    def refresh(self, case_id: int, actor: str) -> None:
        """Re-assemble a case's harvested fields from its records (after they were re-read);
        inside the caller's transaction."""
        self._reassemble(case_id, actor)

    def _reassemble(self, case_id: int, actor: str) -> None:
        records = self.store.records_for_case(case_id)
        typed = self.store.field_values(case_id).get(COUNTED_RECORDS, {}).get("user")
        counted = [int(i) for i in typed.value] if typed and isinstance(typed.value, list) else []
        fields = self.assembler.assemble(records, series_keys_for_case(self.store, case_id),
                                         counted)
        self.store.replace_harvested_fields(case_id, fields)
        self.store.touch_case(case_id)
        self._recheck(case_id, actor)

    # -- reading ------------------------------------------------------------------------

    def get(self, case_id: int) -> Case:
        """One case with its records, effective fields, conflicts and missing elements."""
        return self._case(self.store.case_row(case_id), self.store.field_values(case_id),
                          acknowledged_conflicts(self.store, case_id),
                          self.store.records_for_case(case_id))

    def list(self, status: str | None = None, search: str | None = None) -> list[Case]:
        """Every case (of one status, matching a search text), oldest first.

        Reads all cases' records, values and kept conflicts in one query each (a report
        over every case would otherwise pay a handful of queries per case)."""
        rows = self.store.case_rows(status)
        if search:
            needle = search.strip().lower()
            rows = [r for r in rows if needle in r.case_key.lower()
                    or needle in r.registry_id.lower() or needle == str(r.id)]
        if not rows:
            return []
        values = field_values_by_case(self.store)
        kept = acknowledged_by_case(self.store)
        records = records_by_case(self.store)
        return [self._case(row, values.get(row.id, {}), kept.get(row.id, {}),
                           records.get(row.id, []))
                for row in rows]

    def _case(self, row: CaseRow, stored: dict[str, dict[str, FieldValue]],
              kept: dict[str, Any], records: builtins.list[StoredRecord]) -> Case:
        fields: dict[str, FieldValue] = {}
        conflicts: list[Conflict] = []
        for name, by_origin in sorted(stored.items()):
            user, harvested = by_origin.get("user"), by_origin.get("harvest")
            fields[name] = user or harvested  # type: ignore[assignment]
            if (user is not None and harvested is not None and user.value != harvested.value
                    and kept.get(name, object()) != harvested.value):
                conflicts.append(Conflict(field=name, user_value=user.value,
                                          harvested_value=harvested.value))
        return Case(
            id=row.id, case_key=row.case_key, registry_id=row.registry_id,
            status=row.status,  # type: ignore[arg-type]
            created_at=row.created_at, updated_at=row.updated_at,
            records=[s.record for s in records],
            fields=fields, conflicts=conflicts,
            missing=self.dictionary.missing({k: v.value for k, v in fields.items()}),
        )

    def counts(self) -> dict[str, int]:
        """Cases per status, every status present (0 when none)."""
        counts = status_counts(self.store)
        return {status: counts.get(status, 0) for status in CASE_STATUSES}

    def validate(self, case_id: int) -> builtins.list[Problem]:
        """Every problem of a case against the dictionary (unresolved conflicts included)."""
        case = self.get(case_id)
        problems = validate(case, self.dictionary)
        problems += [Problem(c.field, f"typed {c.user_value!r} but the harvest says "
                                      f"{c.harvested_value!r}: keep one")
                     for c in case.conflicts]
        return problems

    def audit(self, case_id: int) -> builtins.list[dict[str, Any]]:
        """A case's audit entries, oldest first."""
        self.store.case_row(case_id)
        return self.store.audit_log(case_id)

    # -- writing ------------------------------------------------------------------------

    def set_values(self, case_id: int, values: dict[str, Any], actor: str,
                   reason: str | None = None) -> Case:
        """Store values the data manager typed (None clears one).

        Every name must be a dictionary element (numbered within the group's limit);
        a case that no longer validates goes back to ``needs_clinical``. A case the registry
        has (submitted or accepted) is sent again as an update after an edit, so the edit
        needs a ``reason``, which the audit log keeps.
        """
        status = self.store.case_row(case_id).status
        for name in values:
            self.check_field_name(name)
        if values and status in RESEND_STATUSES and not (reason or "").strip():
            raise ValidationError("reason", f"case {case_id} is {status} by the registry; "
                                            "changing it sends it again as an update: give a "
                                            "reason for the change")
        stored = self.store.field_values(case_id)
        with self.store.transaction():
            if values and reason and reason.strip():
                self.store.log(case_id, actor, "reason", None, None, reason.strip())
            for name, value in values.items():
                self.store.set_user_field(case_id, name, value, actor)
                harvested = stored.get(name, {}).get("harvest")
                if value is not None and harvested is not None:
                    # Typing over a harvested value is a decision against it; only a later
                    # harvest that says something else again is a conflict.
                    acknowledge_conflict(self.store, case_id, name, harvested.value, actor,
                                         log=False)
            self._recheck(case_id, actor, edited=True)
        return self.get(case_id)

    def count_print(self, case_id: int, record_id: int, actor: str, *,
                    count: bool = True) -> Case:
        """Count a failed or aborted print of the case as a registry print (a reprint the
        data manager calls the same print), or stop counting it; audited."""
        self.store.case_row(case_id)
        record = next((s for s in self.store.records_for_case(case_id) if s.id == record_id),
                      None)
        if record is None or record.record.kind != "print":
            raise ValidationError(str(record_id), f"is not a print record of case {case_id}")
        if record.record.outcome not in NOT_SUCCEEDED:
            raise ValidationError(str(record_id), "is not a failed or aborted print (it counts"
                                                  " already)")
        typed = self.store.field_values(case_id).get(COUNTED_RECORDS, {}).get("user")
        ids = {int(i) for i in typed.value} if typed and isinstance(typed.value, list) else set()
        ids = ids | {record_id} if count else ids - {record_id}
        with self.store.transaction():
            self.store.set_user_field(case_id, COUNTED_RECORDS, sorted(ids) or None, actor)
            self._reassemble(case_id, actor)
        return self.get(case_id)

    def check_field_name(self, name: str) -> None:
        """ValidationError unless ``name`` is a dictionary element a data manager may set."""
        ref = self.dictionary.resolve(name)
        if ref is None:
            raise ValidationError(name, "not an element of the registry dictionary")
        if ref.number is not None:
            group = self.dictionary.group(ref.element.group or "")
            if not 1 <= ref.number <= group.max:
                raise ValidationError(name, f"{group.label.lower()} numbers run from 1 to "
                                            f"{group.max}")

    def resolve_conflict(self, case_id: int, name: str, keep: Literal["typed", "harvested"],
                         actor: str) -> Case:
        """Settle a conflict: keep the typed value, or drop it for the harvested one."""
        conflict = next((c for c in self.get(case_id).conflicts if c.field == name), None)
        if conflict is None:
            raise ValidationError(name, "has no conflict to resolve")
        with self.store.transaction():
            if keep == "typed":
                acknowledge_conflict(self.store, case_id, name, conflict.harvested_value, actor)
            else:
                self.store.set_user_field(case_id, name, None, actor)
            self._recheck(case_id, actor, edited=True)
        return self.get(case_id)

    def mark_ready(self, case_id: int, actor: str) -> Case:
        """Mark a case ready; CaseNotReadyError (a ValidationError) lists what remains."""
        return self.set_status(case_id, "ready", actor)

    def set_status(self, case_id: int, status: str, actor: str) -> Case:
        """Move a case to ``status`` for the data manager, if the workflow allows it (and,
        from ready on, it validates); the change is audited. The registry's answers
        (accepted / rejected) come only through the outbox."""
        if status not in CASE_STATUSES:
            raise ValidationError("status", f"{status!r} is not one of {', '.join(CASE_STATUSES)}")
        old = self.store.case_row(case_id).status
        if status == old and status != "exported":
            return self.get(case_id)
        if not allowed(old, status):
            raise StatusTransitionError(case_id, old, status)
        if status in REGISTRY_ANSWERS:
            # the table allows them for the outbox, which writes the registry's own answer
            raise StatusTransitionError(case_id, old, status, "only the registry answers that")
        if status != "needs_clinical":
            problems = self.validate(case_id)
            if problems:
                raise CaseNotReadyError(case_id, problems)
        with self.store.transaction():
            move(self.store, case_id, status, actor)
        return self.get(case_id)

    def _recheck(self, case_id: int, actor: str, edited: bool = False) -> None:
        """After a change (inside a transaction): a case past needs_clinical that no longer
        validates goes back to needs_clinical; an edited exported/submitted case is ready
        again (its export or submission is out of date)."""
        status = self.store.case_row(case_id).status
        if status == "needs_clinical":
            return
        if self.validate(case_id):
            move(self.store, case_id, "needs_clinical", actor)
        elif edited and status != "ready":
            move(self.store, case_id, "ready", actor)
