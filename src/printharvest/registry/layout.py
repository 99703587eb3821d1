"""The batch upload column layout (``rules/registry/upload_layout.yaml``) and row building.

The layout is data: a lab that receives the official column layout replaces the file; the
code only expands repeated groups into numbered columns and formats values by element type.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from printharvest.cases.model import Case
from printharvest.dictionary.elements import Dictionary, Element
from printharvest.exceptions import ConfigError
from printharvest.registry.values import Duration
from printharvest.rules.lab import rules_file
from printharvest.rules.yamlfile import validate_yaml

LAYOUT_FILE = "registry/upload_layout.yaml"
DurationPart = Literal["hours", "minutes", "unknown", "total_minutes", "hours_minutes"]
Setting = Literal["facility_id"]


class RegistryItem(BaseModel):
    """Base of the registry files' models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class RegistryFileInfo(RegistryItem):
    """Name and version of a registry file (layout, mapping), and whether it is our draft."""

    name: str
    version: str
    draft: bool = False
    dictionary_version: str | None = None


class LayoutFormat(RegistryItem):
    """How values are written."""

    header_row: bool = False  # the registry rejects a file whose first line is a header
    multi_choice_separator: str = ";"
    boolean_true: str = "Y"
    boolean_false: str = "N"
    duration_unknown: str = "UNK"


class Column(RegistryItem):
    """One column: from the case (generated id), a dictionary element, a constant, or a
    setting of the lab's configuration (the facility id)."""

    name: str
    element: str | None = None
    case: Literal["registry_id"] | None = None
    const: str | None = None
    setting: Setting | None = None
    part: DurationPart = "hours_minutes"

    @model_validator(mode="after")
    def _one_source(self) -> Column:
        sources = (self.element, self.case, self.const, self.setting)
        if sum(x is not None for x in sources) != 1:
            raise ValueError("a column needs exactly one of element, case, const, setting")
        return self


class GroupColumns(RegistryItem):
    """A repeated group expanded into ``count`` numbered copies of its columns."""

    group: str
    count: int | None = Field(default=None, ge=1, le=100)
    columns: list[Column]


class UploadLayout(RegistryItem):
    """The whole layout file."""

    layout: RegistryFileInfo
    format: LayoutFormat = Field(default_factory=LayoutFormat)
    columns: list[Column | GroupColumns]

    @classmethod
    def load(cls, rules_dir: Path | None) -> UploadLayout:
        """The lab's layout if it has one, else the shipped draft."""
        return validate_yaml(cls, rules_file(rules_dir, LAYOUT_FILE))


@dataclass(frozen=True)
class ExpandedColumn:
    """A concrete column: header name, field name (numbered) or case attribute, element."""

    name: str
    field: str | None
    element: Element | None
    case_attr: str | None
    const: str | None
    part: DurationPart
    setting: Setting | None = None


def uncovered(columns: list[ExpandedColumn], dictionary: Dictionary) -> list[str]:
    """Registry elements no column carries (their values would be lost), in order; the lab's
    own fields never go into an upload file."""
    carried = {c.element.id for c in columns if c.element is not None}
    return [e.id for e in dictionary.registry_elements if e.id not in carried]


def expand(layout: UploadLayout, dictionary: Dictionary) -> list[ExpandedColumn]:
    """Concrete columns in order; ConfigError when the layout names an unknown element."""
    elements = {e.id: e for e in dictionary.elements}
    result: list[ExpandedColumn] = []

    def column(col: Column, number: int | None, group: str | None) -> ExpandedColumn:
        element = field = None
        if col.element is not None:
            element = elements.get(col.element)
            if element is None or element.group != group:
                where = f"group {group}" if group else "outside a group"
                raise ConfigError(f"{LAYOUT_FILE}: column {col.name}: element {col.element} "
                                  f"is not a dictionary element {where}")
            field = (col.element if number is None
                     else f"{group}.{number}.{element.short_id}")
        name = col.name if number is None else col.name.replace("{n}", str(number))
        return ExpandedColumn(name, field, element, col.case, col.const, col.part, col.setting)

    for entry in layout.columns:
        if isinstance(entry, Column):
            result.append(column(entry, None, None))
            continue
        try:
            count = entry.count or dictionary.group(entry.group).max
        except StopIteration as exc:
            raise ConfigError(f"{LAYOUT_FILE}: unknown group {entry.group}") from exc
        for number in range(1, count + 1):
            result.extend(column(c, number, entry.group) for c in entry.columns)
    names = [c.name for c in result]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{LAYOUT_FILE}: duplicate column names: {', '.join(duplicates)}")
    return result


Cell = str | int | float | None


def cell(column: ExpandedColumn, case: Case, values: dict[str, Any], fmt: LayoutFormat,
         settings: dict[str, str | None] | None = None) -> Cell:
    """The value of one column for one case (None = empty)."""
    if column.const is not None:
        return column.const
    if column.setting is not None:
        return (settings or {}).get(column.setting)
    if column.case_attr is not None:
        return str(getattr(case, column.case_attr))
    assert column.field is not None and column.element is not None
    value = values.get(column.field)
    if value is None:
        return None
    if isinstance(value, Duration):
        return _duration(value, column.part, fmt)
    if isinstance(value, bool):
        return fmt.boolean_true if value else fmt.boolean_false
    if isinstance(value, list):
        return fmt.multi_choice_separator.join(value)
    if isinstance(value, int | float):
        return value
    return str(value)


def _duration(value: Duration, part: DurationPart, fmt: LayoutFormat) -> Cell:
    if part == "unknown":  # the flag column of the hours / minutes / unknown triple
        return fmt.boolean_true if value.unknown else fmt.boolean_false
    if value.unknown:
        # hours and minutes stay empty when the flag column says unknown
        return None if part in ("hours", "minutes") else fmt.duration_unknown
    if part == "hours":
        return value.hours
    if part == "minutes":
        return value.minutes
    if part == "total_minutes":
        return value.total_minutes
    return f"{value.hours}:{value.minutes:02d}"


def rows(columns: list[ExpandedColumn], cases: list[tuple[Case, dict[str, Any]]],
         fmt: LayoutFormat, settings: dict[str, str | None] | None = None) -> list[list[Cell]]:
    """One row per case, every row as long as ``columns``."""
    return [[cell(c, case, values, fmt, settings) for c in columns] for case, values in cases]
