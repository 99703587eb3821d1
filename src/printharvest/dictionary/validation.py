"""The one validator: a case's values checked against the registry dictionary.

The CLI (``cases validate``), the web page, export and submission all call :func:`validate`.
Each :class:`Problem` names the case field (``parts.2.laterality``) and says what is expected,
in words a data manager understands. Fields that are not dictionary elements (print time,
material used, volume: kept for the lab's own reports) are not checked.

:func:`parse_value` turns typed text into a value of the element's type (CLI and web).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from printharvest.dictionary.elements import Dictionary, Element, empty
from printharvest.exceptions import ValidationError

UNKNOWN = "unknown"
"""The stored value of a duration whose time is not known."""

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^\s*(\d+):([0-5]?\d)\s*$")


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
            return f" (because {target} is {fields.get(target)})"
    return ""


def expected(element: Element) -> str:
    """What an element expects, in words (``one of: left, right``)."""
    if element.type == "choice":
        return "one of " + ", ".join(element.values)
    if element.type == "multi_choice":
        return "one or more of " + ", ".join(element.values)
    if element.type == "duration":
        return "hours and minutes (e.g. 1h30m), or unknown"
    if element.type == "boolean":
        return "yes or no"
    kind = "a whole number" if element.type == "integer" else "a number"
    if element.type in ("integer", "number"):
        return kind + _range(element)
    return "a text"


def _range(element: Element) -> str:
    low, high = element.min, element.max
    if low is not None and high is not None:
        return f" from {_num(low)} to {_num(high)}"
    if low is not None:
        return f" of at least {_num(low)}"
    if high is not None:
        return f" of at most {_num(high)}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


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
    if not isinstance(value, dict) or set(value) != {"hours", "minutes"}:
        return False
    hours, minutes = value["hours"], value["minutes"]
    return (isinstance(hours, int) and isinstance(minutes, int) and not isinstance(hours, bool)
            and hours >= 0 and 0 <= minutes < 60)


def duration(hours: int, minutes: int) -> dict[str, int]:
    """A duration value, normalised so that minutes are below 60."""
    total = hours * 60 + minutes
    return {"hours": total // 60, "minutes": total % 60}


def parse_value(element: Element, text: str) -> Any:
    """A typed value of ``element``'s type from text; ``""`` gives None (clear).

    Raises ValidationError (naming the element) when the text is not of the right type;
    allowed values and ranges are left to :func:`validate` so the data manager sees them.
    """
    text = text.strip()
    if text == "":
        return None
    try:
        return _parse(element, text)
    except ValueError as exc:
        raise ValidationError(element.id, f"{text!r} is not {expected(element)}") from exc


def _parse(element: Element, text: str) -> Any:
    if element.type == "integer":
        return int(text)
    if element.type == "number":
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(text)
        return int(number) if number.is_integer() else number
    if element.type == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(text)
    if element.type == "multi_choice":
        return [part.strip() for part in text.split(",") if part.strip()]
    if element.type == "duration":
        return parse_duration(text)
    return text


def parse_duration(text: str) -> Any:
    """``unknown``, ``1h30m``, ``90m``, ``45`` (minutes) or ``1:30`` as a duration value."""
    if text.strip().lower() == UNKNOWN:
        return UNKNOWN
    if text.strip().isdigit():
        return duration(0, int(text))
    clock = _CLOCK.match(text)
    if clock:
        return duration(int(clock.group(1)), int(clock.group(2)))
    match = _DURATION.match(text)
    if match and (match.group(1) or match.group(2)):
        return duration(int(match.group(1) or 0), int(match.group(2) or 0))
    raise ValueError(text)


def format_value(element: Element | None, value: Any) -> str:
    """A value as a data manager would type it back (CLI and web)."""
    if value is None:
        return ""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        # e.g. prints.unplaced: one "key value" summary per item
        return "; ".join(", ".join(f"{k} {format_value(None, v)}" for k, v in item.items()
                                   if v is not None) for item in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if element is not None and element.type == "duration" and isinstance(value, dict):
        return f"{value.get('hours', 0)}h{value.get('minutes', 0):02d}m"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
