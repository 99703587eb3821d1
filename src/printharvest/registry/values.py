"""Element values of a case, typed by the dictionary and formatted for the registry.

The store keeps canonical values (:mod:`printharvest.dictionary.values`); this module only
picks the elements that may leave and hands them over in the registry's shape, so that the
upload file, the JSON mapping and the case sheet agree.
"""

from __future__ import annotations

from typing import Any

from printharvest.cases.model import Case, Provenance
from printharvest.dictionary.elements import Dictionary, Element
from printharvest.dictionary.values import Duration, export_value
from printharvest.rules.anatomy import ANATOMY_FILE
from printharvest.rules.lab import MATERIALS_FILE, PRINTERS_FILE

__all__ = ["Duration", "element_id", "element_values", "typed_value"]

def typed_value(element: Element, name: str, value: Any) -> Any:
    """``value`` in the registry's shape: list, int, float, bool, Duration or str.

    The one parser (:mod:`printharvest.dictionary.values`) does the work, so the way out
    reads values exactly as the way in stored them. Raises ValidationError naming ``name``.
    """
    return export_value(element, name, value)


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
