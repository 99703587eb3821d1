"""Re-harvest: today's connectors and rules over the originals of existing cases.

A lab that adds a printer to its library, fixes a material rule or installs a better
connector wants the cases it already has to benefit. ``printharvest reharvest`` reads each
case's originals again (from ``archive/``, or in place with ``archive_mode: keep``), puts
the new records in place of the old ones (same record ids, so links and provenance hold),
and re-assembles the case:

- values the data manager typed are kept; where the new harvest disagrees with one, the
  case shows a conflict (as after any harvest);
- every harvested value that changed is written to the audit log (action ``reharvest``,
  old and new value, and the rule that gave the new one);
- a record whose original is gone (or that came from a printer poller) is left as it is,
  and said so.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from printharvest.app import App
from printharvest.cases.model import FieldValue
from printharvest.harvest.harvester import HarvestedRecord
from printharvest.store import StoredRecord
from printharvest.store.links import save_contents
from printharvest.store.revisions import replace_record


@dataclass
class FieldChange:
    """A harvested value that the re-harvest changed."""

    field: str
    old: object
    new: object
    rule: str | None
    conflict: bool = False
    """True when the data manager typed a value that the new harvest disagrees with."""


@dataclass
class CaseReharvest:
    """What re-harvesting one case did."""

    case_id: int
    reread: int = 0
    changes: list[FieldChange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def reharvest(app: App, case_ids: list[int], actor: str) -> list[CaseReharvest]:
    """Re-harvest the given cases (each in its own transaction), in order."""
    return [_one(app, case_id, actor) for case_id in case_ids]


def _original(stored: StoredRecord) -> Path | None:
    """The file (or folder) the record was read from, while it is still there."""
    path = stored.record.source.path
    if "://" in path:
        return None  # a poller's record: there is no file to read again
    path = path.split("!/", 1)[0]  # a zip member: read the zip again
    found = Path(path)
    return found if found.exists() else None


def _one(app: App, case_id: int, actor: str) -> CaseReharvest:
    app.store.case_row(case_id)
    result = CaseReharvest(case_id)
    by_original: dict[Path, list[StoredRecord]] = defaultdict(list)
    for stored in app.store.records_for_case(case_id):
        original = _original(stored)
        if original is None:
            result.skipped.append(f"record {stored.id}: original not available "
                                  f"({stored.record.source.connector})")
            continue
        by_original[original].append(stored)
    fresh: list[tuple[StoredRecord, HarvestedRecord]] = []
    for original, olds in sorted(by_original.items()):
        # Under the same limits as inspect and ingest: an original is as untrusted as then.
        outcome = app.bounded_harvester.harvest_paths(
            [original], grouping="root" if original.is_dir() else "case")
        result.errors.extend(str(e) for e in outcome.errors)
        for old in olds:
            match = _match(old, outcome.items)
            if match is None:
                if not outcome.errors:
                    result.skipped.append(f"record {old.id}: today's connectors give no "
                                          "matching record")
                continue
            fresh.append((old, match))
    before = _harvested(app, case_id)
    with app.store.transaction():
        for old, new in fresh:
            record = new.record
            # Same record, same place: the stored path and case key are kept.
            record.source.path = old.record.source.path
            record.case_key = old.record.case_key
            replace_record(app.store, old.id, record, new.rule_notes)
            save_contents(app.store, old.id, new.contents)
            _save_series(app, old.id, new)
        app.cases.refresh(case_id, actor)
        after = _harvested(app, case_id)
        typed = {name: v["user"].value for name, v in app.store.field_values(case_id).items()
                 if "user" in v}
        for name in sorted(set(before) | set(after)):
            old_value = before[name].value if name in before else None
            new_fv = after.get(name)
            new_value = new_fv.value if new_fv is not None else None
            if old_value == new_value:
                continue
            change = FieldChange(name, old_value, new_value,
                                 new_fv.provenance.rule if new_fv is not None else None,
                                 conflict=name in typed and typed[name] != new_value
                                 and new_value is not None)
            result.changes.append(change)
            app.store.log(case_id, actor, "reharvest", name,
                          None if old_value is None else json.dumps(old_value),
                          None if new_value is None else json.dumps(new_value))
        result.reread = len(fresh)
    return result


def _match(old: StoredRecord, items: list[HarvestedRecord]) -> HarvestedRecord | None:
    """The new record standing for ``old``: same kind, read from the same place (a file, a
    zip member, one imaging set per folder) at the same index."""
    same = [i for i in items if i.record.kind == old.record.kind]
    if old.record.kind == "imaging":
        return same[0] if same else None
    for item in same:
        if (item.record.source.path == old.record.source.path
                and item.record.source.index == old.record.source.index):
            return item
    return None


def _harvested(app: App, case_id: int) -> dict[str, FieldValue]:
    return {name: v["harvest"] for name, v in app.store.field_values(case_id).items()
            if "harvest" in v}


def _save_series(app: App, record_id: int, item: HarvestedRecord) -> None:
    from printharvest.connectors.dicom.series import series_keys
    from printharvest.store.imaging import save_series_keys

    keys = series_keys(item.record)
    if keys is not None:
        save_series_keys(app.store, record_id, [(s, r) for s, r in keys])
