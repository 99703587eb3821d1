"""Small, forgiving converters for values read from printer logs and APIs.

Each returns ``None`` for anything missing, non-numeric, negative, NaN or absurd: unknown is
``None``, never 0 and never a guess.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

MAX_SECONDS = 365 * 86400
"""A single print longer than a year is a broken value."""


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
    return total if total <= MAX_SECONDS else None


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


def to_epoch(value: str | None) -> float | None:
    """An ISO 8601 time back to a Unix timestamp, or None."""
    if not value:
        return None
    parsed = _parse_iso(value)
    return None if parsed is None else parsed.timestamp()


def _parse_iso(text: str) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed; no zone means UTC), or None."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
