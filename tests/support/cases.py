"""Helpers for case tests: a valid value for any dictionary element."""

from __future__ import annotations

from typing import Any

from printharvest.dictionary.elements import Element


def valid_value(element: Element) -> Any:
    """A value the validator accepts for ``element``."""
    if element.type == "choice":
        return element.values[0]
    if element.type == "multi_choice":
        return [element.values[0]]
    if element.type in ("integer", "number"):
        return int(element.min) if element.min is not None else 1
    if element.type == "boolean":
        return True
    if element.type == "duration":
        return {"hours": 1, "minutes": 15}
    return "text"
