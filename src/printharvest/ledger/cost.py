"""What a print and a case cost the lab: material, machine time and people's time.

Inputs come from the lab's own files: material prices in ``rules/materials.yaml``
(``price_per_kg``, ``price_per_l``), printer hourly rates in the printer library of
``rules/printers.yaml`` (``hourly_rate``), labour rates for the effort kinds in
``printharvest.yaml`` (``ledger.labour_rates``). A price, rate or amount that is not known is
a *missing input*, named in the result; it is never counted as zero, so a cost with missing
inputs is a lower bound and says so.

Failed and aborted prints count: the material and machine time they used were spent on the
case (a reprint costs the lab twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from printharvest.cases.model import Case
from printharvest.config import LedgerSettings
from printharvest.models import HarvestRecord, Material
from printharvest.rules.lab import Rules

EFFORT_KINDS: tuple[str, ...] = (
    "consultation_clinician", "consultation_nonclinician",
    "segmentation_clinician", "segmentation_nonclinician",
    "cad_clinician", "cad_nonclinician",
    "postprocessing_clinician", "postprocessing_nonclinician",
)
"""The registry's eight kinds of human time (``effort.<kind>`` elements)."""


@dataclass
class Cost:
    """An amount with the inputs that were missing to make it whole.

    ``amount`` is the sum of what could be priced (None when nothing could); ``missing``
    names every input that was not known, so ``complete`` is False and ``amount`` is a lower
    bound whenever ``missing`` is not empty.
    """

    amount: float | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every input was known."""
        return self.amount is not None and not self.missing

    def add(self, amount: float | None, missing: str | None = None) -> None:
        """Add a priced part, or record why a part could not be priced."""
        if amount is not None:
            self.amount = (self.amount or 0.0) + amount
        if missing is not None:
            self.missing.append(missing)

    def absorb(self, other: Cost, prefix: str = "") -> None:
        """Add another cost and its missing inputs (named with ``prefix``)."""
        self.add(other.amount)
        self.missing.extend(f"{prefix}{m}" for m in other.missing)

    def text(self, currency: str) -> str:
        """The cost in words: ``12.40 USD``, ``at least 12.40 USD (missing: ...)``."""
        if self.amount is None:
            return "unknown (missing: " + "; ".join(self.missing) + ")" if self.missing \
                else "unknown"
        shown = f"{self.amount:.2f} {currency}"
        if self.missing:
            return f"at least {shown} (missing: {'; '.join(self.missing)})"
        return shown


@dataclass
class PrintCost:
    """One print's cost: its materials and its machine time."""

    material: Cost
    machine: Cost
    machine_hours: float | None
    hours_are_estimate: bool

    @property
    def total(self) -> Cost:
        """Material plus machine time."""
        total = Cost()
        total.absorb(self.material)
        total.absorb(self.machine)
        return total


@dataclass
class CaseCost:
    """A case's cost: every print it holds, plus the people's time typed as effort."""

    prints: list[PrintCost]
    effort: Cost

    @property
    def total(self) -> Cost:
        """Prints plus effort; missing inputs are named per print."""
        total = Cost()
        for number, cost in enumerate(self.prints, 1):
            total.absorb(cost.total, prefix=f"print {number}: ")
        total.absorb(self.effort, prefix="effort: ")
        if not self.prints:
            total.missing.insert(0, "no print records")
        return total


def material_cost(material: Material, rules: Rules) -> Cost:
    """What the material used by one print cost: amount used x the rule's price."""
    cost = Cost()
    found = rules.material_rule(material)
    name = _material_name(material, rules)
    if found is None:
        cost.add(None, f"{name}: not recognised by the material rules, so no price")
        return cost
    rule = found[0]
    if rule.price_per_kg is not None and material.used_g is not None:
        cost.add(material.used_g / 1000 * rule.price_per_kg)
    elif rule.price_per_l is not None and material.used_ml is not None:
        cost.add(material.used_ml / 1000 * rule.price_per_l)
    elif rule.price_per_kg is None and rule.price_per_l is None:
        cost.add(None, f"{name}: no price_per_kg or price_per_l in rule {rule.name}")
    elif rule.price_per_kg is not None:
        cost.add(None, f"{name}: grams used not known (priced per kg)")
    else:
        cost.add(None, f"{name}: millilitres used not known (priced per litre)")
    return cost


def print_cost(record: HarvestRecord, rules: Rules) -> PrintCost:
    """The cost of one print record (actual duration preferred over the slicer's estimate)."""
    material = Cost()
    if not record.materials:
        material.add(None, "no material recorded")
    for item in record.materials:
        material.absorb(material_cost(item, rules))
    hours_s = record.print_duration_s
    estimate = hours_s is None and record.print_time_s is not None
    if hours_s is None:
        hours_s = record.print_time_s
    hours = None if hours_s is None else hours_s / 3600
    machine = Cost()
    entry = rules.library_entry(record.printer) if record.printer is not None else None
    if entry is None:
        machine.add(None, "printer not in the printer library, so no hourly rate")
    elif entry.hourly_rate is None:
        machine.add(None, f"no hourly_rate for printer {entry.label}")
    elif hours is None:
        machine.add(None, "print time not known")
    else:
        machine.add(hours * entry.hourly_rate)
    return PrintCost(material, machine, hours, estimate)


def effort_cost(fields: Mapping[str, Any], settings: LedgerSettings) -> Cost:
    """People's time typed in the effort section x the lab's labour rates.

    A kind recorded as "unknown", or not entered, is a missing input; so is a kind whose
    labour rate (clinician or non-clinician) is not configured.
    """
    cost = Cost()
    for kind in EFFORT_KINDS:
        minutes = effort_minutes(fields.get(f"effort.{kind}"))
        who: Literal["clinician", "nonclinician"] = (
            "nonclinician" if kind.endswith("_nonclinician") else "clinician")
        rate = settings.labour_rates.get(who)
        if minutes is None:
            value = fields.get(f"effort.{kind}")
            cost.add(None, f"{kind} {'recorded as unknown' if value else 'not entered'}")
        elif minutes == 0:
            cost.add(0.0)
        elif rate is None:
            cost.add(None, f"{kind}: no labour rate for {who} time")
        else:
            cost.add(minutes / 60 * rate)
    return cost


def effort_minutes(value: Any) -> int | None:
    """Minutes of a stored duration value ({hours, minutes}); None when unknown or absent."""
    if isinstance(value, Mapping) and not value.get("unknown"):
        hours, minutes = value.get("hours"), value.get("minutes")
        if isinstance(hours, int | float) and isinstance(minutes, int | float):
            return round(hours * 60 + minutes)
    return None


def case_cost(records: Iterable[HarvestRecord], fields: Mapping[str, Any], rules: Rules,
              settings: LedgerSettings) -> CaseCost:
    """A case's cost from its print records and its field values."""
    prints = [print_cost(r, rules) for r in records if r.kind == "print"]
    return CaseCost(prints, effort_cost(fields, settings))


def case_total(case: Case, rules: Rules, settings: LedgerSettings) -> Cost:
    """A stored case's whole cost (its print records and typed effort)."""
    values = {name: fv.value for name, fv in case.fields.items()}
    return case_cost(case.records, values, rules, settings).total


def _material_name(material: Material, rules: Rules) -> str:
    """A material in the lab's words (a rule's label), never a slicer profile's free text."""
    found = rules.material_label(material)
    return found[0] if found else f"{material.role} material"
