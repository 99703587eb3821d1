"""Element values of a case, typed by the dictionary and formatted for the registry.

Stored values come from harvest or from the data manager and may be loosely typed (a
duration typed as ``"1:30"``, a number typed as text); this module normalises them once so
that the upload file, the JSON mapping and the case sheet agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from printharvest.cases.model import Case, Provenance
from printharvest.dictionary.elements import Dictionary, Element
from printharvest.exceptions import ValidationError
from printharvest.rules.anatomy import ANATOMY_FILE
from printharvest.rules.lab import MATERIALS_FILE, PRINTERS_FILE

UNKNOWN_WORDS = frozenset({"unknown", "unk", "u", "?"})


@dataclass(frozen=True)
class Duration:
    """Hours and minutes of effort, or unknown (both None)."""

    hours: int | None
    minutes: int | None

    @property
    def unknown(self) -> bool:
        """True when the effort was recorded as unknown."""
        return self.hours is None

    @property
    def total_minutes(self) -> int | None:
        """The duration in minutes, or None when unknown."""
        return None if self.hours is None else self.hours * 60 + (self.minutes or 0)


_HM = re.compile(r"^\s*(?:(\d+)\s*h(?:ours?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?\s*$", re.I)


def parse_duration(element: str, value: Any) -> Duration:
    """A duration from minutes (int), ``"H:MM"``, ``"1h 30m"``, a dict or ``"unknown"``."""
    if isinstance(value, bool):
        raise ValidationError(element, "a duration is hours and minutes, not yes/no")
    if isinstance(value, int):
        return _minutes(element, value)
    if isinstance(value, float) and value.is_integer():
        return _minutes(element, int(value))
    if isinstance(value, dict):
        if value.get("unknown"):
            return Duration(None, None)
        try:
            hours, minutes = int(value.get("hours") or 0), int(value.get("minutes") or 0)
        except (TypeError, ValueError) as exc:
            raise ValidationError(element, "hours and minutes must be whole numbers") from exc
        return _minutes(element, hours * 60 + minutes)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in UNKNOWN_WORDS:
            return Duration(None, None)
        if ":" in text:
            hours_text, _, minutes_text = text.partition(":")
            if hours_text.strip().isdigit() and minutes_text.strip().isdigit():
                return _minutes(element, int(hours_text) * 60 + int(minutes_text))
        if text.isdigit():
            return _minutes(element, int(text))
        match = _HM.match(text)
        if match and any(match.groups()):
            return _minutes(element, int(match[1] or 0) * 60 + int(match[2] or 0))
    raise ValidationError(element, "not a duration (use minutes, H:MM or unknown)")


def _minutes(element: str, total: int) -> Duration:
    if total < 0:
        raise ValidationError(element, "a duration cannot be negative")
    return Duration(total // 60, total % 60)


def typed_value(element: Element, name: str, value: Any) -> Any:
    """``value`` as the element's type: list, int, float, bool, Duration or str.

    Raises ValidationError (naming ``name``) when it cannot be read as that type.
    """
    kind = element.type
    if kind == "multi_choice":
        items = value if isinstance(value, list) else str(value).replace(",", ";").split(";")
        return [str(v).strip() for v in items if str(v).strip()]
    if kind == "duration":
        return parse_duration(name, value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"y", "yes", "true", "1"}:
            return True
        if text in {"n", "no", "false", "0"}:
            return False
        raise ValidationError(name, "expected yes or no")
    if kind in ("integer", "number"):
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(name, "expected a number") from exc
        if kind == "integer":
            if not number.is_integer():
                raise ValidationError(name, "expected a whole number")
            return int(number)
        return int(number) if number.is_integer() else number
    return str(value)


def element_values(case: Case, dictionary: Dictionary) -> dict[str, Any]:
    """Every dictionary element of ``case`` that has a value, typed, keyed by field name.

    Fields that are not dictionary elements (print time, material used: the lab's own
    numbers) are left out, and so are the lab's own fields (``lab.*``): only registry
    dictionary elements ever leave. A free-text element leaves
    only when the data manager typed it, or when one of the lab's rule files gave it (anatomy
    hints in the rule's own words; printer library labels, printer and material names a
    printers.yaml or materials.yaml rule recognised): text harvested straight from a file
    could be a file, job or patient name.
    """
    elements = {e.id: e for e in dictionary.elements}
    result: dict[str, Any] = {}
    for name, field in case.fields.items():
        element = elements.get(element_id(name))
        if element is None or element.lab_only or field.value is None or field.value in ("", []):
            continue
        if (element.type == "text" and field.provenance.origin != "user"
                and not _rule_words(field.provenance)):
            continue
        result[name] = typed_value(element, name, field.value)
    return result


LAB_RULE_PREFIXES = tuple(f"{name}#" for name in (ANATOMY_FILE, PRINTERS_FILE, MATERIALS_FILE))


def _rule_words(provenance: Provenance) -> bool:
    """True when one of the lab's rule files (anatomy, printers, materials) gave the value."""
    return (provenance.rule or "").startswith(LAB_RULE_PREFIXES)


def element_id(field_name: str) -> str:
    """The dictionary element id of a field name (``prints.2.material`` -> ``prints.material``)."""
    parts = field_name.split(".")
    if len(parts) == 3 and parts[1].isdigit():
        return f"{parts[0]}.{parts[2]}"
    return field_name
