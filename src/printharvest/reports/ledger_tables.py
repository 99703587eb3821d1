"""The report's ledger section: what the cases cost, and the billing units they count for.

Costs are summed by month, ordering service and organ system; each row says how many of its
cases had every input priced, because a sum over cases with missing inputs is a lower bound,
not a total. Billing units are the CPT Category III codes per month (see
:mod:`printharvest.ledger.billing`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from printharvest.cases.model import Case
from printharvest.config import LedgerSettings
from printharvest.ledger.billing import CPT_CODES, cpt_units
from printharvest.ledger.cost import Cost, case_cost
from printharvest.reports.facts import CaseFacts
from printharvest.reports.tables import NOT_SET, Section, Table
from printharvest.rules.lab import Rules


@dataclass(frozen=True)
class CaseLedger:
    """One case's report facts beside its cost."""

    facts: CaseFacts
    ordering_service: str | None
    cost: Cost


def case_ledgers(cases: Sequence[tuple[Case, CaseFacts]], rules: Rules,
                 settings: LedgerSettings) -> list[CaseLedger]:
    """The cost of every case of the report."""
    result = []
    for case, facts in cases:
        values = {name: fv.value for name, fv in case.fields.items()}
        service = values.get("model.ordering_service")
        cost = case_cost(case.records, values, rules, settings).total
        result.append(CaseLedger(facts, service if isinstance(service, str) else None, cost))
    return result


def cost_table(key: str, title: str, label: str, ledgers: Sequence[CaseLedger],
               group: Callable[[CaseLedger], str | None], currency: str) -> Table:
    """Cost summed per group, with how many cases were priced in full."""
    sums: dict[str, float | None] = defaultdict(lambda: None)
    cases: dict[str, int] = defaultdict(int)
    whole: dict[str, int] = defaultdict(int)
    for ledger in ledgers:
        name = group(ledger) or NOT_SET
        cases[name] += 1
        if ledger.cost.amount is not None:
            sums[name] = (sums[name] or 0.0) + ledger.cost.amount
        whole[name] += 1 if ledger.cost.complete else 0
    rows = [[name, cases[name], whole[name], _rounded(sums[name])] for name in sorted(cases)]
    return Table(key, title, [label, "cases", "fully priced", f"cost ({currency})"], rows,
                 note="Cases with missing prices, rates or amounts count only what was "
                      "priced: their sum is a lower bound. 'printharvest cases show ID' names "
                      "the missing inputs.")


def billing_table(facts: Sequence[CaseFacts]) -> Table:
    """CPT units per month, from each case's type of object and its parts."""
    months: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CPT_CODES, 0))
    untyped: dict[str, int] = defaultdict(int)
    for fact in facts:
        units = cpt_units(fact.object_type, fact.part_count)
        if units is None:
            untyped[fact.month] += 1
            continue
        for code, count in units.items():
            months[fact.month][code] += count
    rows = [[month, *(months[month][c] for c in CPT_CODES), untyped[month]]
            for month in sorted(set(months) | set(untyped))]
    return Table("billing_units", "Billing units (CPT Category III) by month",
                 ["month", *CPT_CODES, "cases without a type of object"], rows,
                 note="0559T first component of an anatomic model, 0560T each additional "
                      "component, 0561T first anatomic guide, 0562T each additional guide; "
                      "components are the Digital Model's parts.")


def ledger_section(ledgers: Sequence[CaseLedger], currency: str) -> Section:
    """Cost by month, ordering service and organ system; billing units by month."""
    return Section("The lab's ledger", [
        cost_table("cost_by_month", "Cost by month", "month", ledgers,
                   lambda c: c.facts.month, currency),
        cost_table("cost_by_ordering_service", "Cost by ordering service", "ordering service",
                   ledgers, lambda c: c.ordering_service, currency),
        cost_table("cost_by_organ_system", "Cost by organ system", "organ system", ledgers,
                   lambda c: c.facts.organ_system, currency),
        billing_table([c.facts for c in ledgers]),
    ])


def _rounded(amount: float | None) -> float | str:
    return "unknown" if amount is None else round(amount, 2)
