"""Build a Report from the store: the case facts for a period, and every table over them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from printharvest.app import App
from printharvest.cases.filters import case_matches
from printharvest.cases.model import Case
from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.values import value_label
from printharvest.reports.facts import CaseFacts, case_facts
from printharvest.reports.ledger_tables import case_ledgers, ledger_section
from printharvest.reports.tables import Section, Table, build_sections
from printharvest.store.outbox import Outbox

SUBMISSION_STATUSES = ("exported", "submitted", "accepted", "rejected")
INVALID = "not a registry value"


@dataclass
class Report:
    """A report: its period, when it was made, its sections and the submission summary."""

    period_from: date | None
    period_to: date | None
    generated_at: str
    dictionary: str
    case_count: int
    filtered: bool = False
    """True when only cases matching field filters were counted."""
    sections: list[Section] = field(default_factory=list)

    def tables(self) -> list[Table]:
        """Every table, in order."""
        return [t for s in self.sections for t in s.tables]

    def table(self, key: str) -> Table:
        """A table by key."""
        return next(t for t in self.tables() if t.key == key)


def build_report(app: App, period_from: date | None = None,
                 period_to: date | None = None, where: Mapping[str, str] | None = None
                 ) -> Report:
    """Every number of the report, for cases whose day falls in the period (inclusive).

    ``where`` keeps only the cases whose fields hold those values (a lab field such as the
    requesting service); the report says that it is filtered, never by which value (a lab
    field's words stay in the lab's store).
    """
    facts: list[CaseFacts] = []
    in_period: list[tuple[Case, CaseFacts]] = []
    for case in app.cases.list():
        if where and not case_matches(case, where):
            continue
        fact = case_facts(case, app.rules)
        if (period_from and fact.day < period_from) or (period_to and fact.day > period_to):
            continue
        facts.append(fact)
        in_period.append((case, fact))
    dictionary = app.dictionary
    for fact in facts:
        registry_words_only(fact, dictionary)
    labels = {e.id: e.label for e in dictionary.elements}

    def words(element_id: str, code: str) -> str:
        element = dictionary.element(element_id)
        if element is None or code not in element.values:
            return code
        return value_label(element, code)

    sections = build_sections(facts, labels, words)
    ledger = app.home.config.ledger
    sections.append(ledger_section(case_ledgers(in_period, app.rules, ledger), ledger.currency))
    sections.append(Section("Summary of data submitted", [submission_table(app, facts)]))
    info = app.dictionary.dictionary
    return Report(
        period_from=period_from,
        period_to=period_to,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dictionary=f"{info.name} {info.version}" + (" (draft)" if info.draft else ""),
        filtered=bool(where),
        case_count=len(facts),
        sections=sections,
    )


def submission_table(app: App, facts: list[CaseFacts]) -> Table:
    """Cases per registry status (exported, submitted, accepted, rejected): how many, how many
    of them the registry answered with messages, and when the last one moved."""
    outbox = Outbox(app.store)
    counts: dict[str, list[Any]] = {s: [0, 0, ""] for s in SUBMISSION_STATUSES}
    for fact in facts:
        if fact.status not in counts:
            continue
        row = counts[fact.status]
        row[0] += 1
        latest = outbox.latest(fact.id)
        if latest is not None and latest.messages:
            row[1] += 1
        last = next((e["at"][:10] for e in reversed(app.store.audit_log(fact.id))
                     if e["action"] == "status"), "")
        row[2] = max(row[2], last)
    return Table("submissions", "Cases with the registry, by status",
                 ["status", "cases", "with registry messages", "last change"],
                 [[status, *counts[status]] for status in SUBMISSION_STATUSES],
                 note="each case counted once, under its status now")


def registry_words_only(fact: CaseFacts, dictionary: Dictionary) -> None:
    """Codes the dictionary does not allow (typed long ago, or by an older version) are
    counted as INVALID, never as categories of their own."""
    def allowed(element_id: str, code: str) -> bool:
        element = dictionary.element(element_id)
        return element is None or not element.values or code in element.values

    for attr, element_id in (("organ_system", "imaging.organ_system"),
                             ("indication", "imaging.indication"),
                             ("object_type", "model.object_type"),
                             ("guide_type", "model.guide_type")):
        code = getattr(fact, attr)
        if code is not None and not allowed(element_id, code):
            setattr(fact, attr, INVALID)
    fact.modalities = sorted({m if allowed("imaging.modalities", m) else INVALID
                              for m in fact.modalities})
    fact.technologies = sorted({t if allowed("prints.technology", t) else INVALID
                                for t in fact.technologies})
