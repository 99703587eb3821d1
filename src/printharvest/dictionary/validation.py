"""The one validator: a case's values checked against the registry dictionary.

The CLI (``cases validate``), the web page, export and submission all call :func:`validate`.
Each :class:`Problem` names the case field (``parts.2.laterality``) and says what is expected,
in words a data manager understands. Fields that are not dictionary elements (print time,
material used, volume: kept for the lab's own reports) are not checked.

:mod:`printharvest.dictionary.values` turns typed text into a value of the element's type
(CLI and web); ``parse_value`` here is that same parser, kept under its old name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from printharvest.dictionary.elements import Dictionary, Element, empty
from printharvest.dictionary.values import (
    UNKNOWN,
    Duration,
    duration,
    expected,
    format_value,
    value_label,
)
from printharvest.dictionary.values import parse_text as parse_value
from printharvest.exceptions import ValidationError

__all__ = ["UNKNOWN", "CaseNotReadyError", "Problem", "check_value", "duration", "expected",
           "field_values", "format_value", "parse_value", "validate"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case: the field (element id, numbered in groups) and what is
    expected there."""

    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.element}: {self.message}"


class CaseNotReadyError(ValidationError):
    """A case cannot be marked ready (or exported) while problems remain."""

    def __init__(self, case_id: int, problems: list[Problem]) -> None:
        self.case_id = case_id
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first.element, f"case {case_id} is not ready: {first.message}{more}")


class _HasFields(Protocol):
    def value(self, field: str) -> Any: ...

    @property
    def fields(self) -> Mapping[str, Any]: ...


def field_values(case: _HasFields | Mapping[str, Any]) -> dict[str, Any]:
    """Plain ``{field: value}`` from a Case or from a mapping of values."""
    if isinstance(case, Mapping):
        return dict(case)
    return {name: case.value(name) for name in case.fields}


def validate(case: _HasFields | Mapping[str, Any], dictionary: Dictionary) -> list[Problem]:
    """Every problem of a case (a :class:`~printharvest.cases.model.Case` or ``{field: value}``)
    against the dictionary, in form order."""
    fields = field_values(case)
    problems: list[Problem] = []
    for group in dictionary.groups:
        count = dictionary.group_count(fields, group.id)
        if count > group.max:
            problems.append(Problem(group.id, f"at most {group.max} {group.label.lower()}(s) "
                                              f"are allowed; this case has {count}"))
    for ref in dictionary.form_fields(fields):
        _check(dictionary, ref.element, ref.name, ref.number, fields, problems)
    return problems


def _check(dictionary: Dictionary, element: Element, name: str, number: int | None,
           fields: Mapping[str, Any], problems: list[Problem]) -> None:
    value = fields.get(name)
    if empty(value):
        if dictionary.is_required(element, fields, number):
            problems.append(Problem(name, f"{element.label} is required: {expected(element)}"
                                          + _because(dictionary, element, fields, number)))
        return
    message = check_value(element, value) or _related(dictionary, element, value, fields,
                                                      number)
    if message is not None:
        problems.append(Problem(name, message))


def _related(dictionary: Dictionary, element: Element, value: Any,
             fields: Mapping[str, Any], number: int | None) -> str | None:
    """A value allowed by its element but not with the case's other values (an indication of
    another organ system, a print's part that the digital model does not have)."""
    if element.values_by is None and element.choices_from is None:
        return None
    allowed = dictionary.allowed(element, fields, number)
    chosen = value if isinstance(value, list) else [value]
    bad = [str(v) for v in chosen if str(v) not in allowed]
    if not bad:
        return None
    if element.choices_from is not None:
        return (f"{', '.join(bad)}: the case has no such {element.choices_from} entry "
                f"(choose among {', '.join(allowed) or 'none yet'})")
    target = dictionary.condition_field(element, element.values_by or "", number)
    return (f"{', '.join(bad)} is not a value for {target} {fields.get(target)} "
            f"(one of {', '.join(allowed)})")


def _because(dictionary: Dictionary, element: Element, fields: Mapping[str, Any],
             number: int | None) -> str:
    if element.required:
        return ""
    for condition in element.required_if:
        target = dictionary.condition_field(element, condition.element, number)
        if str(fields.get(target)) in condition.values:
            ref = dictionary.resolve(target)
            if ref is None:
                return f" (because {target} is {fields.get(target)})"
            return (f" (because {ref.element.label} is "
                    f"{value_label(ref.element, str(fields.get(target)))})")
    return ""


def check_value(element: Element, value: Any) -> str | None:
    """Why a present value is wrong for ``element``, or None when it is fine."""
    label = element.label
    if element.type == "choice":
        if str(value) not in element.values:
            return f"{label} is {value!r}; expected {expected(element)}"
    elif element.type == "multi_choice":
        items = value if isinstance(value, list) else [value]
        wrong = [str(v) for v in items if str(v) not in element.values]
        if wrong:
            return f"{label} has {', '.join(wrong)}; expected {expected(element)}"
    elif element.type in ("integer", "number"):
        return _check_number(element, value)
    elif element.type == "boolean":
        if not isinstance(value, bool):
            return f"{label} is {value!r}; expected yes or no"
    elif element.type == "duration":
        if value != UNKNOWN and not _is_duration(value):
            return f"{label} is {value!r}; expected {expected(element)}"
        if (value != UNKNOWN and element.max is not None
                and value["hours"] + value["minutes"] / 60 > element.max):
            return f"{label} is {value['hours']} h {value['minutes']} min; expected at most " \
                   f"{element.max:g} hours, or unknown"
    elif not isinstance(value, str):
        return f"{label} is {value!r}; expected a text"
    return None


def _check_number(element: Element, value: Any) -> str | None:
    ok_type = (isinstance(value, int) if element.type == "integer"
               else isinstance(value, int | float))
    if isinstance(value, bool) or not ok_type or (isinstance(value, float)
                                                  and not math.isfinite(value)):
        return f"{element.label} is {value!r}; expected {expected(element)}"
    if ((element.min is not None and value < element.min)
            or (element.max is not None and value > element.max)):
        return f"{element.label} is {value}; expected {expected(element)}"
    return None


def _is_duration(value: Any) -> bool:
    """True for a canonical known duration (``{"hours": h, "minutes": m}``, m < 60)."""
    if not isinstance(value, dict) or set(value) != {"hours", "minutes"}:
        return False
    found = Duration.from_value(value)
    return found is not None and found.hours == value["hours"]
