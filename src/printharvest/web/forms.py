"""The case form: what the page shows for each element, and typed values read back.

Field names in the HTML are the case field names (``parts.2.region``); a duration posts
``NAME.hours``, ``NAME.minutes`` and ``NAME.unknown``. Every rendered field also posts its
name in ``_f`` so that an unticked checkbox list reads as "cleared", not as "absent".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from printharvest.cases.assembly import DEFAULT_SCALE
from printharvest.cases.display import provenance_text
from printharvest.cases.model import Case, Conflict
from printharvest.cases.segments import SEGMENT_HINT
from printharvest.dictionary.elements import Dictionary, Element, FieldRef, empty
from printharvest.dictionary.validation import Problem, check_value
from printharvest.dictionary.values import UNKNOWN, Duration, format_value, parse_text
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
    kept: list[str] = field(default_factory=list)
    """Stored choices the form has no box for (e.g. a modality set from the terminal): shown
    ticked, so that a Save never drops them unless the data manager unticks them."""
    missing: bool = False
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
    hint: str | None = None
    """The local segment name behind a harvested part (shown only where paths are)."""

    @property
    def prefix(self) -> str:
        """The field-name prefix of this instance (``prints.2``)."""
        return self.fields[0].name.rsplit(".", 1)[0] if self.fields else ""


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


EXTRA_DEFAULTS: dict[str, Any] = {"prints.scale": DEFAULT_SCALE, "prints.copies": 1}
"""What a newly added instance starts with (element id -> value): a print at full scale, one
copy. Defaults alone do not add an instance."""
EXTRA_LIST = "_extra"


def build_form(dictionary: Dictionary, case: Case, problems: list[Problem],
               show_paths: bool, typed: Mapping[str, Any] | None = None,
               errors: Mapping[str, str] | None = None, home: str = "",
               calm: bool = False) -> list[SectionView]:
    """The whole form in the dictionary's order. ``typed``/``errors`` re-show a rejected post.

    ``calm`` (a case opened, not yet saved or checked): an empty required field is marked as
    missing, not as an error; values that are wrong are still shown as errors.
    """
    values = {name: fv.value for name, fv in case.fields.items()}
    by_field: dict[str, str] = {}
    for problem in problems:
        if calm and empty(values.get(problem.element)):
            continue
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
            provenance=provenance_text(fv, show_paths=show_paths, home=home),
            required=dictionary.is_required(ref.element, values, ref.number),
            problem=errors.get(ref.name) or by_field.get(ref.name),
            conflict=conflicts.get(ref.name))
        if ref.element.type == "duration":
            if isinstance(value, dict) and "typed" in value:  # a refused post, as typed
                result.hours, result.minutes, unknown = value["typed"]
                result.unknown = bool(unknown)
            elif value == UNKNOWN:
                result.unknown = True
            elif isinstance(value, dict):
                result.hours, result.minutes = str(value.get("hours", "")), str(
                    value.get("minutes", ""))
        if ref.element.type == "multi_choice" and isinstance(value, list):
            result.selected = [str(v) for v in value]
        # the choices the page offers: a print's parts among the case's parts, an
        # indication among its organ system's conditions
        result.choices = dictionary.allowed(ref.element, values, ref.number)
        if ref.element.type == "multi_choice":
            result.kept = [v for v in result.selected if v not in result.choices]
        result.missing = result.required and empty(value)
        return result

    def extra_view(ref: FieldRef) -> FieldView:
        result = view(ref)
        default = EXTRA_DEFAULTS.get(ref.element.id)
        if default is not None and empty(result.value):
            result.value, result.text = default, format_value(ref.element, default)
        result.missing = False
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
            instances = [InstanceView(n, [(extra_view if n > shown else view)(
                                              FieldRef(m.field_name(n), m, n))
                                          for m in members], extra=n > shown,
                                      hint=_local_hint(case, group.id, n, show_paths))
                         for n in numbers]
            items.append(GroupView(group.id, group.label, group.help, group.max, instances))
        count = sum(1 for item in items for f in _fields(item) if f.problem)
        sections.append(SectionView(section.id, section.label, items, count))
    return sections


def is_local_hint(name: str) -> bool:
    """``parts.N.segment``: a segment name kept as a hint for the part (local text)."""
    bits = name.split(".")
    return len(bits) == 3 and bits[1].isdigit() and bits[2] == SEGMENT_HINT


def _local_hint(case: Case, group: str, number: int, show_paths: bool) -> str | None:
    found = case.fields.get(f"{group}.{number}.{SEGMENT_HINT}")
    return str(found.value) if show_paths and found is not None and found.value else None


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
                raw = (first(name + ".hours"), first(name + ".minutes"),
                       first(name + ".unknown"))
                values[name] = read_duration(element, *raw)
            elif element.type == "multi_choice":
                chosen = [v for v in form.get(name, []) if v]
                values[name] = chosen or None
            else:
                values[name] = parse_text(element, first(name))
            problem = None if values[name] is None else check_value(element, values[name])
            if problem is not None:
                raise ValidationError(name, problem)
        except ValidationError as exc:
            errors[name] = exc.message
            # What was typed comes back beside the message, exactly as typed.
            if element.type == "duration":
                values[name] = {"typed": raw}
            elif element.type == "multi_choice":
                values[name] = [v for v in form.get(name, []) if v]
            else:
                values[name] = first(name)
    for prefix in form.get(EXTRA_LIST, []):
        _drop_untouched(dictionary, prefix, values, errors)
    return values, errors


def _drop_untouched(dictionary: Dictionary, prefix: str, values: dict[str, Any],
                    errors: dict[str, str]) -> None:
    """An added instance the data manager did not touch (only its defaults) is not added."""
    names = [n for n in values if n.startswith(prefix + ".")]
    for name in names:
        ref = dictionary.resolve(name)
        value = values[name]
        if name in errors or not (empty(value) or (
                ref is not None and EXTRA_DEFAULTS.get(ref.element.id) == value)):
            return
    for name in names:
        del values[name]


def read_duration(element: Element, hours: str, minutes: str, unknown: str) -> Any:
    """A canonical duration from the form's hours, minutes and "unknown" box.

    Hours or minutes typed while "unknown" is ticked is a contradiction the data manager
    settles: it is refused with a question, not silently saved as either.
    """
    hours, minutes = hours.strip(), minutes.strip()
    if unknown:
        if hours or minutes:
            raise ValidationError(element.id, "you typed a time and ticked unknown: clear the "
                                              "time or untick unknown")
        return UNKNOWN
    if not hours and not minutes:
        return None
    try:
        h = int(hours or 0)
        m = int(minutes or 0)
    except ValueError as exc:
        raise ValidationError(element.id, "hours and minutes must be whole numbers") from exc
    if h < 0 or m < 0:
        raise ValidationError(element.id, "hours and minutes cannot be negative")
    return Duration.of(h, m).stored()


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

