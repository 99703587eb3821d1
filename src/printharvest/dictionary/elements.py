"""The registry data dictionary, loaded from ``rules/registry/dictionary.yaml``.

The dictionary is data: the lab replaces the draft with the official one without code
changes. This module knows how to read it, how element ids map onto a case's field names
(repeated groups are numbered from 1: ``parts.2.region``) and which elements a case still
lacks. Checking values is :mod:`printharvest.dictionary.validation`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from printharvest.rules.lab import rules_file
from printharvest.rules.yamlfile import validate_yaml

DICTIONARY_FILE = "registry/dictionary.yaml"
LAB_FIELDS_FILE = "registry/lab_fields.yaml"
LAB_PREFIX = "lab."
"""Field names of the lab's own fields (``lab_fields.yaml``): kept, shown, never sent."""

ElementType = Literal["text", "integer", "number", "choice", "multi_choice", "boolean",
                      "duration"]


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
    min: int = Field(default=0, ge=0)
    max: int = Field(default=1, ge=1)
    help: str | None = None


class Condition(_Item):
    """``element`` has one of ``values``; inside a group a bare id names the same instance's
    sibling (``region`` in a ``parts`` element means that part's region)."""

    element: str
    values: list[str] = Field(min_length=1)


class Element(_Item):
    """One data element of the case form."""

    id: str
    label: str
    section: str
    type: ElementType
    group: str | None = None
    values: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    """Words for choice codes (``M: Male``, Likert anchors); a code without one is shown
    made readable (:func:`printharvest.dictionary.values.value_label`)."""
    required: bool = False
    required_if: list[Condition] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    source: Literal["harvested", "clinical"] = "clinical"
    help: str | None = None
    lab_only: bool = False
    """A lab field (``lab_fields.yaml``): never part of an upload file or API payload."""
    # a choice whose allowed values depend on another element's value (indication by organ
    # system): the value of ``values_by`` picks the list in ``value_groups``
    values_by: str | None = None
    value_groups: dict[str, list[str]] = Field(default_factory=dict)
    # a choice among the instances of a repeated group (a print's parts): the values are
    # instance numbers, and only instances that exist may be chosen
    choices_from: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Element:
        grouped = {v for values in self.value_groups.values() for v in values}
        if grouped - set(self.values):
            raise ValueError(f"{self.id}: value_groups hold values the element does not "
                             f"allow: {', '.join(sorted(grouped - set(self.values)))}")
        if bool(self.values_by) != bool(self.value_groups):
            raise ValueError(f"{self.id}: values_by and value_groups go together")
        if self.type in ("choice", "multi_choice") and not self.values:
            raise ValueError(f"{self.id}: a {self.type} element needs values")
        if self.group is not None and not self.id.startswith(self.group + "."):
            raise ValueError(f"{self.id}: an element of group {self.group} is named "
                             f"'{self.group}.<name>'")
        unlabelled = sorted(set(self.labels) - set(self.values))
        if unlabelled:
            raise ValueError(f"{self.id}: labels for codes that are not values: "
                             f"{', '.join(unlabelled)}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.id}: min is above max")
        return self

    @property
    def short_id(self) -> str:
        """The element id without its group prefix (``material`` for ``prints.material``)."""
        return self.id.split(".", 1)[1] if self.group and "." in self.id else self.id

    @property
    def harvested(self) -> bool:
        """True when machines can know this element (it should be prefilled)."""
        return self.source == "harvested"

    def field_name(self, number: int | None = None) -> str:
        """The case field name of this element (numbered inside a group)."""
        if self.group is None:
            return self.id
        return f"{self.group}.{number}.{self.short_id}"


@dataclass(frozen=True)
class FieldRef:
    """A case field name resolved against the dictionary."""

    name: str
    element: Element
    number: int | None


class LabElement(_Item):
    """One lab-only field: an id starting with ``lab.``, a label, a type."""

    id: str = Field(pattern=r"^lab\.[a-z][a-z0-9_]*$")
    label: str
    type: ElementType = "text"
    values: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    help: str | None = None


class LabFields(_Item):
    """``rules/registry/lab_fields.yaml``: the lab's own section and its fields."""

    section: Section
    elements: list[LabElement] = Field(default_factory=list)


class Dictionary(_Item):
    """The whole dictionary."""

    dictionary: DictionaryInfo
    sections: list[Section]
    groups: list[Group] = Field(default_factory=list)
    elements: list[Element]

    @model_validator(mode="after")
    def _references(self) -> Dictionary:
        sections = {s.id for s in self.sections}
        groups = {g.id: g for g in self.groups}
        ids = [e.id for e in self.elements]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate element id {duplicates[0]}")
        for group in self.groups:
            if group.section not in sections:
                raise ValueError(f"group {group.id}: unknown section {group.section}")
            if group.min > group.max:
                raise ValueError(f"group {group.id}: min is above max")
        for element in self.elements:
            if element.section not in sections:
                raise ValueError(f"{element.id}: unknown section {element.section}")
            if element.group is not None and element.group not in groups:
                raise ValueError(f"{element.id}: unknown group {element.group}")
            if (element.values_by is not None
                    and self._condition_target(element, element.values_by) is None):
                raise ValueError(f"{element.id}: values_by names unknown element "
                                 f"{element.values_by}")
            if element.choices_from is not None and element.choices_from not in groups:
                raise ValueError(f"{element.id}: choices_from names unknown group "
                                 f"{element.choices_from}")
            for condition in element.required_if:
                if self._condition_target(element, condition.element) is None:
                    raise ValueError(f"{element.id}: required_if names unknown element "
                                     f"{condition.element}")
        return self

    @classmethod
    def load(cls, rules_dir: Path | None) -> Dictionary:
        """The lab's dictionary if it has one, else the shipped draft, with the lab's fields."""
        dictionary = cls.load_file(rules_file(rules_dir, DICTIONARY_FILE))
        lab = validate_yaml(LabFields, rules_file(rules_dir, LAB_FIELDS_FILE))
        return dictionary.with_lab_fields(lab)

    def with_lab_fields(self, lab: LabFields) -> Dictionary:
        """This dictionary plus the lab's own fields, in a last section of their own."""
        elements = [Element(**e.model_dump(), section=lab.section.id, lab_only=True)
                    for e in lab.elements]
        return Dictionary.model_validate({
            **self.model_dump(), "sections": [*self.sections, lab.section],
            "elements": [*self.elements, *elements]})

    @classmethod
    def load_file(cls, path: Path) -> Dictionary:
        """One dictionary file; a ConfigError names the file, key and line."""
        return validate_yaml(cls, path)

    # -- lookup -------------------------------------------------------------------------

    @property
    def registry_elements(self) -> list[Element]:
        """The registry's own elements: every element but the lab's own fields."""
        return [e for e in self.elements if not e.lab_only]

    def group(self, group_id: str) -> Group:
        """A group by id."""
        return next(g for g in self.groups if g.id == group_id)

    def element(self, element_id: str) -> Element | None:
        """An element by id, or None."""
        return next((e for e in self.elements if e.id == element_id), None)

    def section_elements(self, section_id: str) -> list[Element]:
        """The elements of one section, in file order."""
        return [e for e in self.elements if e.section == section_id]

    def group_elements(self, group_id: str) -> list[Element]:
        """The elements of one repeated group, in file order."""
        return [e for e in self.elements if e.group == group_id]

    def resolve(self, name: str) -> FieldRef | None:
        """The element behind a case field name (``parts.2.region``), or None if unknown."""
        head, _, rest = name.partition(".")
        number_text, _, short = rest.partition(".")
        if short and number_text.isdigit() and any(g.id == head for g in self.groups):
            element = self.element(f"{head}.{short}")
            if element is not None and element.group == head:
                return FieldRef(name, element, int(number_text))
            return None
        element = self.element(name)
        if element is None or element.group is not None:
            return None
        return FieldRef(name, element, None)

    def _condition_target(self, element: Element, target: str) -> Element | None:
        if element.group is not None:
            sibling = self.element(f"{element.group}.{target}")
            if sibling is not None:
                return sibling
        found = self.element(target)
        return found if found is not None and found.group is None else None

    def condition_field(self, element: Element, target: str, number: int | None) -> str:
        """The case field a condition of ``element`` (instance ``number``) looks at."""
        found = self._condition_target(element, target)
        if found is not None and found.group is not None:
            return found.field_name(number)
        return target

    # -- case shape ---------------------------------------------------------------------

    def group_count(self, fields: Mapping[str, Any], group_id: str) -> int:
        """How many instances of a group the fields hold (the highest number with a value)."""
        count = 0
        prefix = group_id + "."
        for name, value in fields.items():
            if name.startswith(prefix) and not empty(value):
                head = name[len(prefix):].split(".", 1)[0]
                if head.isdigit():
                    count = max(count, int(head))
        return count

    def instances(self, fields: Mapping[str, Any], group_id: str) -> int:
        """How many instances of a group a case form shows: at least the group's minimum."""
        return max(self.group(group_id).min, self.group_count(fields, group_id))

    def is_required(self, element: Element, fields: Mapping[str, Any],
                    number: int | None = None) -> bool:
        """Whether ``element`` (instance ``number``) must have a value, given the others."""
        if element.required:
            return True
        for condition in element.required_if:
            value = fields.get(self.condition_field(element, condition.element, number))
            present = value if isinstance(value, list) else [value]
            if any(str(v) in condition.values for v in present if v is not None):
                return True
        return False

    def form_fields(self, fields: Mapping[str, Any]) -> list[FieldRef]:
        """Every field the case form shows, in form order (a group's instances one after
        another, each with all the group's elements)."""
        result: list[FieldRef] = []
        done: set[str] = set()
        for element in self.elements:
            if element.group is None:
                result.append(FieldRef(element.id, element, None))
                continue
            if element.group in done:
                continue
            done.add(element.group)
            members = self.group_elements(element.group)
            for n in range(1, self.instances(fields, element.group) + 1):
                result.extend(FieldRef(m.field_name(n), m, n) for m in members)
        return result

    def allowed(self, element: Element, fields: Mapping[str, Any],
                number: int | None = None) -> list[str]:
        """The values ``element`` may take given the case's other values: its group of
        ``value_groups`` when ``values_by`` has a value, the numbers of the existing instances
        for ``choices_from``, else all its values."""
        if element.choices_from is not None:
            count = self.group_count(fields, element.choices_from)
            return [v for v in element.values if v.isdigit() and 1 <= int(v) <= count]
        if element.values_by is not None:
            chosen = fields.get(self.condition_field(element, element.values_by, number))
            if isinstance(chosen, str) and chosen:
                # a value with no group (a region without subregions) allows none
                return list(element.value_groups.get(chosen, []))
        return list(element.values)

    def missing(self, fields: Mapping[str, Any]) -> list[str]:
        """Required (or conditionally required) fields without a value, in form order (the
        order of :meth:`form_fields`, without building a FieldRef per field: this runs for
        every case a list or the report reads)."""
        result: list[str] = []
        done: set[str] = set()
        for element in self.elements:
            if element.group is None:
                if empty(fields.get(element.id)) and self.is_required(element, fields):
                    result.append(element.id)
                continue
            if element.group in done:
                continue
            done.add(element.group)
            members = [(m, f"{m.group}.{{}}.{m.short_id}") for m in
                       self.group_elements(element.group)]
            for n in range(1, self.instances(fields, element.group) + 1):
                for member, pattern in members:
                    name = pattern.format(n)
                    if empty(fields.get(name)) and self.is_required(member, fields, n):
                        result.append(name)
        return result


def empty(value: Any) -> bool:
    """True for a value that counts as not filled in."""
    return value is None or value == "" or value == [] or value == {}
