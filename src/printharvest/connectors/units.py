"""Harvested numbers: the one limits table, the one duration parser, forgiving converters.

Every connector (G-code, job logs, vendor files, pollers) checks durations, masses, lengths,
volumes and layer heights against :data:`LIMITS`, so a value is "too big to be real" in the
same place for all of them. The converters return ``None`` for anything missing,
non-numeric, negative, NaN or absurd: unknown is ``None``, never 0 and never a guess.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

LIMITS: dict[str, float] = {
    # A single print: the longest real ones (large-format FDM, big powder-bed builds) take
    # days to weeks; beyond 90 days the value is a unit mix-up or a broken file.
    "print_time_s": 90 * 86400.0,
    "print_duration_s": 90 * 86400.0,
    # 100 kg of material, 100 L of resin: far beyond any one hospital print.
    "used_g": 100_000.0,
    "used_ml": 100_000.0,
    # 100 km of filament: 100 kg of 1.75 mm filament is about 33 km, so this agrees with used_g.
    "used_mm": 100_000_000.0,
    "layer_height_mm": 5.0,
    "volume_ml": 1_000_000.0,
    "part_count": 100_000.0,
}
"""Above these (keyed by HarvestRecord / Material field) a harvested value is taken as a
mistake (a unit mix-up, a placeholder, a broken file): warned about and left unknown."""

_CLOCK = re.compile(r"^\s*(?:(\d+)\s*[d.:]\s*)??(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?\s*$")
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(d(?:ays?)?|h(?:ours?|rs?)?|m(?:in(?:ute)?s?)?|s(?:ec(?:ond)?s?)?)"
    r"(?![a-z])", re.IGNORECASE)
_SCALE = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def limit_problem(name: str, number: float) -> str | None:
    """Why ``number`` is not a plausible value of field ``name`` (None when it is)."""
    if not math.isfinite(number):
        return "not a finite number"
    if number < 0:
        return "negative"
    limit = LIMITS.get(name)
    if limit is not None and number > limit:
        return f"implausibly large ({number:g})"
    return None


def within_limit(name: str, number: float | None) -> float | None:
    """``number`` when it is a plausible value of field ``name``, else None."""
    if number is None or limit_problem(name, number) is not None:
        return None
    return number


def parse_duration(text: str, *, strict: bool = False) -> float | None:
    """Seconds from a written duration, or None when it holds none.

    Reads ``1d 2h 3m 4s``, ``2h3m``, ``0 hours 31 minutes``, ``1:02:03`` / ``1:02`` (h:mm)
    and ``2.01:02:03`` / ``2:01:02:03`` (days first). With ``strict`` (a job-log cell) the
    whole text must be a duration; otherwise (a comment line in a G-code file) the duration
    parts are picked out of the text. A bare number is not a duration here: its unit is the
    caller's to know.
    """
    clock = _CLOCK.match(text)
    if clock:
        days, hours, minutes, secs = clock.groups()
        return (int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60
                + float(secs or 0))
    parts = _DURATION_PART.findall(text)
    if strict and _DURATION_PART.sub("", text).strip(" ,\t"):
        return None
    if not parts:
        return None
    return sum(float(n) * _SCALE[unit[0].lower()] for n, unit in parts)


def as_float(value: Any) -> float | None:
    """A finite, non-negative float, or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number) or number < 0:
        return None
    return number


def as_int(value: Any) -> int | None:
    """A non-negative int (rounded), or None."""
    number = as_float(value)
    return None if number is None else round(number)


def seconds(value: Any, scale: float = 1.0) -> int | None:
    """A plausible duration in whole seconds (``value * scale``), or None."""
    number = as_float(value)
    if number is None:
        return None
    total = round(number * scale)
    return total if within_limit("print_time_s", total) is not None else None


def amount(name: str, value: Any) -> float | None:
    """A plausible amount for field ``name`` (``used_g``, ``used_ml``, ``used_mm``,
    ``layer_height_mm``, ``volume_ml``) in its contract unit, or None."""
    return within_limit(name, as_float(value))


def ms_to_s(value: Any) -> int | None:
    """Milliseconds to whole seconds."""
    return seconds(value, 0.001)


def iso_time(value: Any) -> str | None:
    """An ISO 8601 UTC time from an ISO string or a Unix timestamp, or None."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, int | float):
        return from_epoch(value)
    text = str(value).strip()
    try:
        return from_epoch(float(text))
    except ValueError:
        pass
    parsed = _parse_iso(text)
    return None if parsed is None else parsed.astimezone(UTC).isoformat(timespec="seconds")


def from_epoch(value: float) -> str | None:
    """A Unix timestamp as ISO 8601 UTC, or None when it is not a plausible time."""
    if math.isnan(value) or value <= 0 or value > 4102444800:  # after 2100: broken
        return None
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


def _parse_iso(text: str) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed; no zone means UTC), or None."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
