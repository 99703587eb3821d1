"""Cell values of a job log turned into the contract's units.

Every parser returns ``None`` for an empty cell and raises :class:`ValueError` with a short
reason for a cell it cannot read; the connector turns that into a warning on the record
and leaves the field unknown (never 0).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo

from printharvest.connectors.units import limit_problem, parse_duration
from printharvest.vocab import TECHNOLOGIES, Technology

# Factors to the contract unit of each family.
_TO_SECONDS = {"s": 1.0, "seconds": 1.0, "min": 60.0, "minutes": 60.0, "h": 3600.0,
               "hours": 3600.0}
_TO_GRAMS = {"g": 1.0, "kg": 1000.0, "mg": 0.001, "lb": 453.59237, "oz": 28.349523125}
_TO_ML = {"ml": 1.0, "cm3": 1.0, "l": 1000.0, "mm3": 0.001, "in3": 16.387064}
_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "um": 0.001, "in": 25.4}

def is_blank(value: object) -> bool:
    """True for an empty cell (None, empty or whitespace text)."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_number(value: object) -> float:
    """A number from a cell: ``1,234.5``, ``1.234,5``, ``12,5``, ``321.00 g`` all work."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        text = re.sub(r"[^\d,.\-+eE]+$", "", text)  # a trailing unit such as "g" or "mL"
        if "," in text and "." in text:
            # The later separator is the decimal one.
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise ValueError("not a number") from None
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def parse_seconds(value: object, unit: str) -> float:
    """A time in seconds from a number in ``unit`` or a duration (``2h3m0s``, ``1:02:03``)."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dt.time):  # a spreadsheet cell formatted as a clock time
        return value.hour * 3600.0 + value.minute * 60.0 + value.second
    if unit == "duration" or (isinstance(value, str) and not _plain_number(value)):
        return _parse_duration(str(value))
    return parse_number(value) * _TO_SECONDS[unit]


def _plain_number(text: str) -> bool:
    return re.fullmatch(r"\s*[-+]?[\d.,]+\s*", text) is not None


def _parse_duration(text: str) -> float:
    seconds = parse_duration(text, strict=True)
    if seconds is not None:
        return seconds
    if _plain_number(text):
        return parse_number(text)  # a bare number in a duration column: seconds
    raise ValueError("not a duration")


def convert_amount(value: object, unit: str) -> float:
    """A mass, volume or length in the contract unit (g, mL, mm)."""
    number = parse_number(value)
    for table in (_TO_GRAMS, _TO_ML, _TO_MM):
        if unit in table:
            return number * table[unit]
    raise ValueError(f"unknown unit {unit}")


def parse_datetime(value: object, formats: list[str], timezone: str | None) -> str:
    """An ISO 8601 time from a cell; naive times are placed in ``timezone`` when given."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = " ".join(str(value).split())
        moment = _parse_text_time(text, formats)
    if moment.tzinfo is None and timezone:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    return moment.isoformat()


def _parse_text_time(text: str, formats: list[str]) -> dt.datetime:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not a date in the map's formats") from None


def parse_count(value: object) -> int:
    """A whole, non-negative count."""
    number = parse_number(value)
    if number < 0 or number != int(number):
        raise ValueError("not a whole count")
    return int(number)


def parse_technology(value: object) -> Technology:
    """A technology from the contract vocabulary (spaces and dashes accepted)."""
    text = re.sub(r"[\s-]+", "_", str(value).strip().lower())
    for technology in TECHNOLOGIES:
        if technology == text:
            return technology  # type: ignore[return-value]
    raise ValueError("not a technology of the contract vocabulary")


def check_limit(name: str, number: float) -> float:
    """``number`` when it is a sane, non-negative amount for ``name`` (the limits table in
    ``connectors/units.py``), else ValueError."""
    problem = limit_problem(name, number)
    if problem is not None:
        raise ValueError(problem)
    return number


def text_value(value: object) -> str:
    """A cell as trimmed text (numbers without a trailing ``.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())
