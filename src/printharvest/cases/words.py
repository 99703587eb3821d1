"""Words for the page and ``cases show``: field labels, and the harvested facts that are not
dictionary elements (print time, material used, volume) with their labels and units.

Dictionary values are put in words by :func:`printharvest.dictionary.values.display_value`;
this module covers what the dictionary does not describe, so that the page never shows a
field id, a number of seconds or a UTC stamp.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.values import Duration, display_value


def _number(value: float, unit: str) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return f"{text} {unit}"


def _seconds(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        return str(value)
    return Duration.of(0, round(value / 60)).words()


def _print_list(value: Any) -> str:
    """Summaries of harvested prints (beyond the limit, or not counted) in words."""
    if isinstance(value, int):
        return f"{value} more"
    if not isinstance(value, list):
        return str(value)
    items = []
    for item in value:
        if not isinstance(item, dict):
            continue
        bits = [str(item[k]) for k in ("printer", "material") if item.get(k)]
        if item.get("technology"):
            bits.append(str(item["technology"]).replace("_", " "))
        if item.get("outcome"):
            bits.insert(0, str(item["outcome"]))
        if item.get("record"):
            bits.append(f"record {item['record']}")
        copies = item.get("copies")
        if copies:
            bits.append(f"{copies} cop{'y' if copies == 1 else 'ies'}")
        items.append(", ".join(bits) or "a print")
    return "; ".join(items)


_FACTS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "print_time_s": ("print time", _seconds),
    "material_used_g": ("material used", lambda v: _number(v, "g")),
    "material_used_ml": ("material used", lambda v: _number(v, "mL")),
    "part_count": ("parts on the plate", str),
    "volume_ml": ("model volume", lambda v: _number(v, "mL")),
    "unplaced": ("beyond the registry's limit", _print_list),
    "not_counted": ("failed or aborted, not counted", _print_list),
}
_GROUPS = {"prints": "Print", "parts": "Part", "model": "Model", "imaging": "Imaging"}


def fact_words(name: str, value: Any) -> tuple[str, str]:
    """A harvested fact (``prints.1.print_time_s``) as (label, value in words):
    ``("Print 1: print time", "2 h 15 min")``."""
    parts = name.split(".")
    key = parts[-1]
    label, shown = _FACTS.get(key, (key.replace("_", " "), str))
    head = _GROUPS.get(parts[0], parts[0].replace("_", " ").capitalize())
    if len(parts) == 3 and parts[1].isdigit():
        head = f"{head} {parts[1]}"
    elif key in ("unplaced", "not_counted"):
        head = {"prints": "Prints", "parts": "Parts"}.get(parts[0], head)
    try:
        text = shown(value)
    except (TypeError, ValueError):
        text = str(value)
    return f"{head}: {label}", text


def field_words(dictionary: Dictionary, name: str, value: Any) -> tuple[str, str]:
    """Any case field as (label, value in words): a dictionary element by its label (a
    repeated group's with its number, ``Parts 2: Region``) and its value's labels, anything
    else as a harvested fact (:func:`fact_words`)."""
    ref = dictionary.resolve(name)
    if ref is None:
        return fact_words(name, value)
    label = ref.element.label
    if ref.number is not None:
        group = next((g for g in dictionary.groups if g.id == ref.element.group), None)
        head = _GROUPS.get(ref.element.group or "", group.label if group else "")
        label = f"{head} {ref.number}: {label}"
    return label, display_value(ref.element, value)
