"""A registry case: the records that share a case key, and its field values with provenance.

Field names are the registry dictionary's element ids; repeated groups are numbered from 1
(``prints.1.material``). Each value says where it came from: which record (by content hash
and index, with the local file for the lab's own eyes), which connector, and which rule.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from printharvest.models import HarvestRecord

CaseStatus = Literal["needs_clinical", "ready", "exported", "submitted", "accepted", "rejected"]
CASE_STATUSES: tuple[str, ...] = CaseStatus.__args__  # type: ignore[attr-defined]


class Provenance(BaseModel):
    """Where one field value came from."""

    model_config = ConfigDict(extra="forbid")

    origin: Literal["harvest", "user"]
    record_id: int | None = None
    sha256: str | None = None
    index: int | None = None
    path: str | None = None
    connector: str | None = None
    rule: str | None = None
    actor: str | None = None
    at: str | None = None


class FieldValue(BaseModel):
    """One field's value and its provenance."""

    model_config = ConfigDict(extra="forbid")

    value: Any
    provenance: Provenance


class Conflict(BaseModel):
    """A harvested value that disagrees with what the data manager typed."""

    field: str
    user_value: Any
    harvested_value: Any


class Case(BaseModel):
    """One registry case as the store holds it."""

    id: int
    case_key: str
    registry_id: str
    status: CaseStatus
    created_at: str
    updated_at: str
    records: list[HarvestRecord] = Field(default_factory=list)
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)

    def value(self, field: str) -> Any:
        """The effective value of a field, or None."""
        found = self.fields.get(field)
        return None if found is None else found.value
