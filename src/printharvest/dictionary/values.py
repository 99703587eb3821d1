"""The one parser and formatter of dictionary element values.

Every front end reads typed text through :func:`parse_text` (the CLI's ``cases set``, the web
form), the store keeps the canonical value it returns, and export only converts that canonical
value into the registry's shape (:func:`export_value`); nothing re-types a value on the way out.

Canonical stored values, per element type:

========== ===================================================
integer    ``int``
number     ``int`` when whole, else ``float`` (finite)
boolean    ``bool``
choice     ``str`` (the code, e.g. ``surgical_planning``)
multi      ``list[str]`` of codes
duration   ``{"hours": h, "minutes": m}`` (m < 60) or ``"unknown"``
text       ``str``
========== ===================================================

One word list for yes, no and unknown serves every front end, and durations have one type,
:class:`Duration`, used by the form, validation, export and the report.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from printharvest.exceptions import ValidationError

if TYPE_CHECKING:
    from printharvest.dictionary.elements import Element

UNKNOWN = "unknown"
"""The stored value of a duration whose time is not known."""

TRUE_WORDS = frozenset({"yes", "y", "true", "1", "on"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "off"})
UNKNOWN_WORDS = frozenset({"unknown", "unk"})
"""Words read as "unknown" for a duration (``UNK`` is what upload files use)."""

_HM = re.compile(r"^\s*(?:(\d+)\s*h(?:ours?|rs?)?)?\s*,?\s*(?:(\d+)\s*m(?:in(?:utes?|s)?)?)?\s*$",
                 re.IGNORECASE)
_CLOCK = re.compile(r"^\s*(\d+):([0-5]?\d)\s*$")


@dataclass(frozen=True)
class Duration:
    """Hours and minutes of human time (minutes below 60), or unknown (both None)."""

    hours: int | None
    minutes: int | None

    @classmethod
    def of(cls, hours: int, minutes: int) -> Duration:
        """A known duration, normalised (90 minutes is 1 h 30 min); negative raises ValueError."""
        total = hours * 60 + minutes
        if hours < 0 or minutes < 0:
            raise ValueError("a duration cannot be negative")
        return cls(total // 60, total % 60)

    @classmethod
    def unknown_time(cls) -> Duration:
        """The duration recorded as unknown."""
        return cls(None, None)

    @property
    def unknown(self) -> bool:
        """True when the time was recorded as unknown."""
        return self.hours is None

    @property
    def total_minutes(self) -> int | None:
        """The duration in minutes, or None when unknown."""
        return None if self.hours is None else self.hours * 60 + (self.minutes or 0)

    def stored(self) -> dict[str, int] | str:
        """The canonical value the store keeps."""
        if self.hours is None:
            return UNKNOWN
        return {"hours": self.hours, "minutes": self.minutes or 0}

    def text(self) -> str:
        """As a data manager types it back (``1h30m``, ``unknown``)."""
        return UNKNOWN if self.hours is None else f"{self.hours}h{self.minutes or 0:02d}m"

    def words(self) -> str:
        """For reading (``2 h 15 min``, ``45 min``, ``unknown``)."""
        if self.hours is None:
            return UNKNOWN
        if self.hours and self.minutes:
            return f"{self.hours} h {self.minutes} min"
        return f"{self.hours} h" if self.hours else f"{self.minutes} min"

    @classmethod
    def parse(cls, text: str) -> Duration:
        """``unknown``, ``1h30m``, ``1 hour 30 minutes``, ``90m``, ``45`` (minutes) or
        ``1:30``; anything else raises ValueError."""
        text = text.strip()
        if text.lower() in UNKNOWN_WORDS:
            return cls.unknown_time()
        if text.isdigit():
            return cls.of(0, int(text))
        clock = _CLOCK.match(text)
        if clock:
            return cls.of(int(clock.group(1)), int(clock.group(2)))
        match = _HM.match(text)
        if match and (match.group(1) or match.group(2)):
            return cls.of(int(match.group(1) or 0), int(match.group(2) or 0))
        raise ValueError(text)

    @classmethod
    def from_value(cls, value: Any) -> Duration | None:
        """A Duration from a stored value (canonical, or an older loose form: minutes as a
        whole number, text, ``{"unknown": true}``); None when the value is not a duration."""
        if isinstance(value, Duration):
            return value
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            return cls.of(0, value) if value >= 0 else None
        if isinstance(value, str):
            try:
                return cls.parse(value)
            except ValueError:
                return None
        if isinstance(value, dict):
            if value.get("unknown") is True and set(value) <= {"unknown", "hours", "minutes"}:
                return cls.unknown_time()
            hours, minutes = value.get("hours", 0), value.get("minutes", 0)
            if (set(value) <= {"hours", "minutes"} and value
                    and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                            for v in (hours, minutes))):
                return cls.of(hours, minutes)
        return None


def duration(hours: int, minutes: int) -> dict[str, int]:
    """A canonical stored duration, normalised so that minutes are below 60."""
    stored = Duration.of(hours, minutes).stored()
    assert isinstance(stored, dict)
    return stored


def expected(element: Element) -> str:
    """What an element expects, in words (``one of: Left, Right``)."""
    if element.type == "choice":
        return "one of " + ", ".join(value_label(element, v) for v in element.values)
    if element.type == "multi_choice":
        return "one or more of " + ", ".join(value_label(element, v) for v in element.values)
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


def parse_text(element: Element, text: str) -> Any:
    """The canonical value of ``element``'s type from typed text; ``""`` gives None (clear).

    Raises ValidationError (naming the element) when the text is not of the right type.
    Allowed values and ranges are :func:`printharvest.dictionary.validation.check_value`'s
    job, which both front ends call before storing.
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
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise ValueError(text)
    if element.type == "multi_choice":
        return [part.strip() for part in re.split(r"[,;]", text) if part.strip()]
    if element.type == "choice":
        return _choice_code(element, text)
    if element.type == "duration":
        return Duration.parse(text).stored()
    return text


def _choice_code(element: Element, text: str) -> str:
    """A choice typed as its code or as its label (``Surgical planning``) gives the code."""
    if text in element.values:
        return text
    folded = text.casefold()
    for code in element.values:
        if folded in (code.casefold(), value_label(element, code).casefold()):
            return code
    return text


def canonical(element: Element, name: str, value: Any) -> Any:
    """The canonical form of a stored value (older stores kept looser forms: a duration as
    ``"1:30"``, a number as text). Raises ValidationError naming ``name`` when it is not of
    the element's type."""
    kind = element.type
    if kind == "duration":
        found = Duration.from_value(value)
        if found is None:
            raise ValidationError(name, f"{value!r} is not {expected(element)}")
        return found.stored()
    if kind == "multi_choice":
        items = value if isinstance(value, list) else re.split(r"[,;]", str(value))
        return [str(v).strip() for v in items if str(v).strip()]
    if isinstance(value, str):
        return parse_text(element, value) if kind != "text" else value
    if kind == "boolean" and not isinstance(value, bool):
        raise ValidationError(name, f"{value!r} is not {expected(element)}")
    if kind in ("integer", "number"):
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value)):
            raise ValidationError(name, f"{value!r} is not {expected(element)}")
        if kind == "integer" and not float(value).is_integer():
            raise ValidationError(name, f"{value!r} is not {expected(element)}")
        return int(value) if float(value).is_integer() else value
    if kind in ("choice", "text"):
        return str(value)
    return value


def export_value(element: Element, name: str, value: Any) -> Any:
    """A canonical value in the shape the registry mapping and layouts take: a
    :class:`Duration` for durations, the canonical value for everything else."""
    found = canonical(element, name, value)
    if element.type == "duration":
        return Duration.from_value(found)
    return found


def format_value(element: Element | None, value: Any) -> str:
    """A value as a data manager would type it back (CLI and web inputs)."""
    if value is None:
        return ""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        # e.g. prints.unplaced: one "key value" summary per item
        return "; ".join(", ".join(f"{k} {format_value(None, v)}" for k, v in item.items()
                                   if v is not None) for item in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if element is not None and element.type == "duration":
        found = Duration.from_value(value)
        if found is not None:
            return found.text()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def value_label(element: Element, code: str) -> str:
    """A choice code in words: the dictionary's label for it, else the code made readable
    (``surgical_planning`` -> ``Surgical planning``; short codes such as ``CT`` stay)."""
    label = element.labels.get(code)
    if label:
        return label
    if "_" not in code and (code.isupper() or not code.isalpha()):
        return code
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


def display_value(element: Element | None, value: Any) -> str:
    """A value in words for reading: labels instead of codes, durations as ``2 h 15 min``."""
    if value is None or value == "" or value == []:
        return ""
    if element is None:
        return format_value(None, value)
    if element.type == "duration":
        found = Duration.from_value(value)
        return found.words() if found is not None else str(value)
    if element.type in ("choice", "multi_choice"):
        items = value if isinstance(value, list) else [value]
        return ", ".join(value_label(element, str(v)) for v in items)
    return format_value(element, value)
