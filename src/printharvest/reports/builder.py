"""Build a Report from the store: the case facts for a period, and every table over them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from printharvest.app import App
from printharvest.cases.filters import case_matches
from printharvest.cases.model import Case
from printharvest.reports.facts import CaseFacts, case_facts
from printharvest.reports.ledger_tables import case_ledgers, ledger_section
from printharvest.reports.tables import Section, Table, build_sections
from printharvest.store.outbox import Outbox, OutboxRow

SUBMISSION_STATUSES = ("exported", "submitted", "accepted", "rejected")


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
    labels = {e.id: e.label for e in app.dictionary.elements}
    sections = build_sections(facts, labels)
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
    """Cases exported or submitted, by date, type and status, with the registry's answer."""
    outbox = Outbox(app.store)
    rows = []
    for fact in facts:
        answer = _registry_answer(outbox.latest(fact.id))
        for entry in app.store.audit_log(fact.id):
            if entry["action"] == "status" and entry["new"] in SUBMISSION_STATUSES:
                rows.append([entry["at"][:10], fact.id, fact.registry_id,
                             fact.object_type or "not yet set", entry["new"], fact.status,
                             answer])
    rows.sort(key=lambda r: (r[0], r[1]))
    return Table("submissions", "Cases exported or submitted",
                 ["date", "case", "registry id", "type of object", "event", "status now",
                  "registry answer"], rows)


def _registry_answer(row: OutboxRow | None) -> str:
    """The registry's last word on a case: its state and field messages (registry text)."""
    if row is None:
        return "-"
    messages = "; ".join(f"{m.get('element') or 'case'}: {m.get('message')}"
                         for m in row.messages)
    return f"{row.state}" + (f" ({messages})" if messages else "")
