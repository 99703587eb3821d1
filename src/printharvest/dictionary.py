"""The registry data dictionary, loaded from ``rules/registry/dictionary.yaml``.

The dictionary is data: the lab replaces the draft with the official one without code
changes. This module knows how to read it and which elements a case still lacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .rules import rules_file
from .yamlfile import validate_yaml

DICTIONARY_FILE = "registry/dictionary.yaml"


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DictionaryInfo(_Item):
    """Name and version of the dictionary, and whether it is our draft."""

    name: str
    version: str
    draft: bool = False


class Section(_Item):
    """A section of the case form, in form order."""

    id: str
    label: str


class Group(_Item):
    """A repeated group of elements (prints, anatomic parts)."""

    id: str
    label: str
    section: str
    min: int = 0
    max: int = 1


class Element(_Item):
    """One data element of the case form."""

    id: str
    label: str
    section: str
    type: Literal["text", "integer", "number", "choice", "multi_choice", "boolean", "duration"]
    group: str | None = None
    values: list[str] = Field(default_factory=list)
    required: bool = False
    min: float | None = None
    max: float | None = None
    source: Literal["harvested", "clinical"] = "clinical"

    @property
    def short_id(self) -> str:
        """The element id without its group prefix (``material`` for ``prints.material``)."""
        return self.id.split(".", 1)[1] if self.group and "." in self.id else self.id


class Dictionary(_Item):
    """The whole dictionary."""

    dictionary: DictionaryInfo
    sections: list[Section]
    groups: list[Group] = Field(default_factory=list)
    elements: list[Element]

    @classmethod
    def load(cls, rules_dir: Path | None) -> Dictionary:
        """The lab's dictionary if it has one, else the shipped draft."""
        return validate_yaml(cls, rules_file(rules_dir, DICTIONARY_FILE))

    def group(self, group_id: str) -> Group:
        """A group by id."""
        return next(g for g in self.groups if g.id == group_id)

    def missing(self, fields: dict[str, Any]) -> list[str]:
        """Required elements without a value, in form order (group members numbered)."""
        result: list[str] = []
        for element in self.elements:
            if not element.required:
                continue
            if element.group is None:
                if _empty(fields.get(element.id)):
                    result.append(element.id)
                continue
            group = self.group(element.group)
            present = _group_count(fields, group.id)
            for n in range(1, max(group.min, present) + 1):
                name = f"{group.id}.{n}.{element.short_id}"
                if _empty(fields.get(name)):
                    result.append(name)
        return result


def _group_count(fields: dict[str, Any], group_id: str) -> int:
    count = 0
    prefix = group_id + "."
    for name in fields:
        if name.startswith(prefix):
            head = name[len(prefix):].split(".", 1)[0]
            if head.isdigit():
                count = max(count, int(head))
    return count


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []
