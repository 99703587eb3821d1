"""The case form: what the page shows for each element, and typed values read back.

Field names in the HTML are the case field names (``parts.2.region``); a duration posts
``NAME.hours``, ``NAME.minutes`` and ``NAME.unknown``. Every rendered field also posts its
name in ``_f`` so that an unticked checkbox list reads as "cleared", not as "absent".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from printharvest.cases.model import Case, Conflict, FieldValue
from printharvest.dictionary.elements import Dictionary, Element, FieldRef, empty
from printharvest.dictionary.validation import UNKNOWN, Problem, duration, format_value, parse_value
from printharvest.exceptions import ValidationError

FIELD_LIST = "_f"


@dataclass
class FieldView:
    """One input of the case form."""

    name: str
    element: Element
    value: Any
    text: str
    origin: str | None
    provenance: str
    required: bool
    problem: str | None = None
    conflict: Conflict | None = None
    hours: str = ""
    minutes: str = ""
    unknown: bool = False
    selected: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        """A DOM id for the input."""
        return "f-" + self.name.replace(".", "-")


@dataclass
class InstanceView:
    """One instance of a repeated group (a part, a print)."""

    number: int
    fields: list[FieldView]
    extra: bool


@dataclass
class GroupView:
    """A repeated group inside a section."""

    id: str
    label: str
    help: str | None
    max: int
    instances: list[InstanceView]


@dataclass
class SectionView:
    """A section of the form: its single elements and its groups, in file order."""

    id: str
    label: str
    items: list[FieldView | GroupView]
    problems: int = 0


def provenance_text(fv: FieldValue | None, show_paths: bool, home: str = "") -> str:
    """Where a value came from, for the page (paths only when the lab allows it, shown
    relative to the home when they are inside it)."""
    if fv is None:
        return ""
    p = fv.provenance
    if p.origin == "user":
        return f"typed by {p.actor or 'someone'}" + (f" at {p.at}" if p.at else "")
    bits = [f"harvested by {p.connector}" if p.connector else "harvested"]
    if show_paths and p.path:
        inside = home and p.path.startswith(home.rstrip("/") + "/")
        bits.append(p.path[len(home.rstrip("/")) + 1:] if inside else p.path)
    elif p.sha256:
        bits.append(f"record {p.sha256[:12]}" + (f" #{p.index}" if p.index else ""))
    if p.rule:
        bits.append(f"rule {p.rule}")
    return " · ".join(bits)


def build_form(dictionary: Dictionary, case: Case, problems: list[Problem],
               show_paths: bool, typed: Mapping[str, Any] | None = None,
               errors: Mapping[str, str] | None = None, home: str = "") -> list[SectionView]:
    """The whole form in the dictionary's order. ``typed``/``errors`` re-show a rejected post."""
    values = {name: fv.value for name, fv in case.fields.items()}
    by_field: dict[str, str] = {}
    for problem in problems:
        by_field.setdefault(problem.element, problem.message)
    conflicts = {c.field: c for c in case.conflicts}
    typed = typed or {}
    errors = errors or {}

    def view(ref: FieldRef) -> FieldView:
        fv = case.fields.get(ref.name)
        value = typed.get(ref.name, fv.value if fv else None)
        result = FieldView(
            name=ref.name, element=ref.element, value=value,
            text=value if isinstance(value, str) and ref.name in errors
            else format_value(ref.element, value),
            origin=fv.provenance.origin if fv else None,
            provenance=provenance_text(fv, show_paths, home),
            required=dictionary.is_required(ref.element, values, ref.number),
            problem=errors.get(ref.name) or by_field.get(ref.name),
            conflict=conflicts.get(ref.name))
        if ref.element.type == "duration":
            if value == UNKNOWN:
                result.unknown = True
            elif isinstance(value, dict):
                result.hours, result.minutes = str(value.get("hours", "")), str(
                    value.get("minutes", ""))
        if ref.element.type == "multi_choice" and isinstance(value, list):
            result.selected = [str(v) for v in value]
        # the choices the page offers: a print's parts among the case's parts, an
        # indication among its organ system's conditions
        result.choices = dictionary.allowed(ref.element, values, ref.number)
        return result

    sections: list[SectionView] = []
    for section in dictionary.sections:
        items: list[FieldView | GroupView] = []
        seen: set[str] = set()
        for element in dictionary.section_elements(section.id):
            if element.group is None:
                items.append(view(FieldRef(element.id, element, None)))
                continue
            if element.group in seen:
                continue
            seen.add(element.group)
            group = dictionary.group(element.group)
            members = dictionary.group_elements(group.id)
            shown = dictionary.instances(values, group.id)
            numbers = list(range(1, shown + 1))
            if shown < group.max:
                numbers.append(shown + 1)  # one empty instance to add another
            instances = [InstanceView(n, [view(FieldRef(m.field_name(n), m, n))
                                          for m in members], extra=n > shown)
                         for n in numbers]
            items.append(GroupView(group.id, group.label, group.help, group.max, instances))
        count = sum(1 for item in items for f in _fields(item) if f.problem)
        sections.append(SectionView(section.id, section.label, items, count))
    return sections


def _fields(item: FieldView | GroupView) -> list[FieldView]:
    if isinstance(item, FieldView):
        return [item]
    return [f for instance in item.instances for f in instance.fields]


def read_form(dictionary: Dictionary, form: Mapping[str, list[str]]
              ) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values by field name from a posted form, and per-field errors for text that is
    not of the element's type (those values are not saved)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in dict.fromkeys(form.get(FIELD_LIST, [])):
        ref = dictionary.resolve(name)
        if ref is None:
            continue
        element = ref.element

        def first(key: str) -> str:
            found = form.get(key)
            return found[0] if found else ""

        try:
            if element.type == "duration":
                values[name] = _read_duration(element, first(name + ".unknown"),
                                              first(name + ".hours"), first(name + ".minutes"))
            elif element.type == "multi_choice":
                chosen = [v for v in form.get(name, []) if v]
                values[name] = chosen or None
            else:
                values[name] = parse_value(element, first(name))
        except ValidationError as exc:
            errors[name] = exc.message
            values[name] = first(name) if element.type != "duration" else None
    return values, errors


def _read_duration(element: Element, unknown: str, hours: str, minutes: str) -> Any:
    if unknown:
        return UNKNOWN
    if not hours.strip() and not minutes.strip():
        return None
    try:
        h = int(hours.strip() or 0)
        m = int(minutes.strip() or 0)
    except ValueError as exc:
        raise ValidationError(element.id, "hours and minutes must be whole numbers") from exc
    if h < 0 or m < 0:
        raise ValidationError(element.id, "hours and minutes cannot be negative")
    return duration(h, m)


def changes(case: Case, typed: Mapping[str, Any]) -> dict[str, Any]:
    """The typed values that differ from what the case holds (None clears a typed value).

    An emptied field whose value was harvested is left alone: the harvest still stands.
    """
    result: dict[str, Any] = {}
    for name, value in typed.items():
        current = case.fields.get(name)
        if empty(value):
            if current is not None and current.provenance.origin == "user":
                result[name] = None
            continue
        if current is None or current.value != value:
            result[name] = value
    return result

