"""Filtering cases by a field's value (``--where lab.cost_centre=CARD-12``).

Used by ``cases list`` and ``report`` so that a lab can look at the cases of one requesting
service, cost centre or project (its own fields) or of any dictionary value.
"""

from __future__ import annotations

from collections.abc import Mapping

from printharvest.cases.model import Case


def case_matches(case: Case, where: Mapping[str, str]) -> bool:
    """True when every named field holds the value (case-insensitive; a list must hold it)."""
    for field, wanted in where.items():
        value = case.value(field)
        items = value if isinstance(value, list) else [value]
        if not any(str(item).strip().casefold() == wanted.casefold()
                   for item in items if item is not None):
            return False
    return True
