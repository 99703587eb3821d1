"""The web pages' filter by a lab field's value (``?lab_field=lab.cost_centre&lab_value=X``).

One reading for the case list and the report page, so both accept the same query parameters.
Only the lab's own fields (``Element.lab_only``) may be chosen; another field is no filter.
"""

from __future__ import annotations

from collections.abc import Mapping

from printharvest.dictionary.elements import Dictionary, Element

FIELD_PARAM = "lab_field"
VALUE_PARAM = "lab_value"


def lab_elements(dictionary: Dictionary) -> list[Element]:
    """The lab fields a page offers to filter by, in the dictionary's order."""
    return [e for e in dictionary.elements if e.lab_only]


def lab_where(params: Mapping[str, str], dictionary: Dictionary) -> dict[str, str]:
    """{field: value} for a chosen lab field and a non-blank value, else {} (no filter)."""
    field = params.get(FIELD_PARAM, "").strip()
    value = params.get(VALUE_PARAM, "").strip()
    if not value or field not in {e.id for e in lab_elements(dictionary)}:
        return {}
    return {field: value}
