"""The lab's printer library as the registry's Manage 3D Printers page asks for it.

Each facility registers its printers on that page (a label, the manufacturer, the model and
the technology); a print's printer label must match one of them. The library lives in
``rules/printers.yaml``; this module lists it in that shape and finds prints whose label is
not in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from printharvest.cases.model import Case
from printharvest.rules.lab import PrinterEntry

PAGE_COLUMNS = ("Printer label", "Manufacturer", "Model", "Technology")
"""The Manage 3D Printers page's fields, in its order."""


def page_rows(library: list[PrinterEntry]) -> list[dict[str, str]]:
    """One row per library printer, keyed by the page's field names (empty when unknown)."""
    return [{"Printer label": p.label, "Manufacturer": p.manufacturer or "",
             "Model": p.model or "", "Technology": (p.technology or "").replace("_", " ")}
            for p in library]


@dataclass(frozen=True)
class UnknownLabel:
    """A print whose printer label the library does not have."""

    case_id: int
    field: str
    label: str


def unknown_labels(cases: list[Case], library: list[PrinterEntry]) -> list[UnknownLabel]:
    """Prints whose printer label is not in the library (the registry would refuse them)."""
    known = {p.label for p in library}
    found: list[UnknownLabel] = []
    for case in cases:
        for name, value in sorted(case.fields.items()):
            head, _, rest = name.partition(".")
            if head == "prints" and rest.endswith(".printer_label") and value.value \
                    and str(value.value) not in known:
                found.append(UnknownLabel(case.id, name, str(value.value)))
    return found
