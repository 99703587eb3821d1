"""The one outgoing step: select, validate, release, map, hash, egress check.

Both ways a case leaves the lab (the batch upload file and the NRDR API) prepare it here, so
that they agree on which cases may go, on the values they carry and on the version hash that
guards against sending the same case twice. Writing files is the exporter's job, sending is
the submitter's; neither selects, validates or maps a case by itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printharvest.cases.model import Case
from printharvest.cases.service import CaseService
from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.validation import validate
from printharvest.exceptions import EgressError, ValidationError
from printharvest.privacy.egress import EgressGuard, check_values, release
from printharvest.registry.mapping import NrdrMapping, to_record
from printharvest.registry.values import element_values


def problems_for(case: Case, dictionary: Dictionary) -> list[str]:
    """Why ``case`` cannot go to the registry yet (empty: it can).

    The one validator the CLI and the web page use (required, conditions, allowed values,
    ranges, repeat limits), plus values that cannot be written in their element's type.
    """
    problems = [str(problem) for problem in validate(case, dictionary)]
    try:
        element_values(case, dictionary)
    except ValidationError as exc:
        problems.append(str(exc))
    return problems


def version_hash(record: dict[str, Any]) -> str:
    """A stable hash of a case record: the same values give the same hash."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OutgoingCase:
    """One case ready to leave: its typed values, its NRDR case record and that record's hash."""

    case: Case
    values: dict[str, Any]
    record: dict[str, Any]
    version: str


@dataclass
class Prepared:
    """What the outgoing step let through, and what it held back (case id, reason)."""

    items: list[OutgoingCase] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def cases(self) -> list[Case]:
        """The cases let through, in order."""
        return [item.case for item in self.items]


class OutgoingStep:
    """Prepares cases for the upload file and the NRDR API alike."""

    def __init__(self, cases: CaseService, rules_dir: Path | None,
                 local_roots: Sequence[Path] = ()) -> None:
        self.cases = cases
        self.dictionary: Dictionary = cases.dictionary
        self.rules_dir = rules_dir
        self.local_roots = tuple(local_roots)

    def mapping(self) -> NrdrMapping:
        """The NRDR mapping, checked against the dictionary: every element it names exists and
        every dictionary element has a key (a ConfigError otherwise: nothing is dropped)."""
        mapping = NrdrMapping.load(self.rules_dir)
        mapping.check(self.dictionary)
        return mapping

    def guard(self, cases: Sequence[Case]) -> EgressGuard:
        """The egress guard for ``cases`` (their names forbidden, the dictionary's words not)."""
        guard = EgressGuard.for_cases(cases, self.local_roots)
        guard.allow(v for e in self.dictionary.elements for v in e.values)
        return guard

    def select(self, ids: Sequence[int] = (), any_status: bool = False, again: bool = False
               ) -> tuple[list[Case], list[tuple[int, str]]]:
        """The cases named (or every ready case), and the ones held back with the reason.

        ``again``: cases exported before go out again (in another format, or once more);
        without it an exported case is held back with a word on how to send it again.
        """
        if ids:
            chosen = [self.cases.get(i) for i in ids]
        else:
            chosen = self.cases.list("ready") + (self.cases.list("exported") if again else [])
        good: list[Case] = []
        skipped: list[tuple[int, str]] = []
        for case in chosen:
            if not any_status and case.status == "exported" and not again:
                skipped.append((case.id, "exported already; to send it again (or in another "
                                          "format) add --again"))
                continue
            if not any_status and case.status not in ("ready", "exported"):
                skipped.append((case.id, f"status is {case.status}, only ready cases leave"))
                continue
            problems = [] if any_status else problems_for(case, self.dictionary)
            if problems:
                skipped.append((case.id, "; ".join(problems)))
                continue
            good.append(case)
        return good, skipped

    def prepare(self, ids: Sequence[int] = (), any_status: bool = False,
                mapping: NrdrMapping | None = None, again: bool = False) -> Prepared:
        """Select, validate, release, map, hash and egress-check: the cases that may leave.

        ``any_status`` lets any named case through unvalidated (a printable case sheet). A case
        whose value holds a name or a path is held back naming the element, so the data
        manager can correct it; the mapped record passes the egress gate as the bytes it is.
        """
        mapping = mapping or self.mapping()
        chosen, skipped = self.select(ids, any_status, again)
        result = Prepared(skipped=skipped)
        for case in chosen:
            where = f"case {case.registry_id}"
            try:
                values = element_values(case, self.dictionary)
                guard = self.guard([case])
                check_values(values, guard, where)
                record = to_record(case, values, mapping, self.dictionary)
                release(json.dumps(record, ensure_ascii=False).encode("utf-8"), guard, where)
            except (EgressError, ValidationError) as exc:
                result.skipped.append((case.id, str(exc)))
                continue
            result.items.append(OutgoingCase(case, values, record, version_hash(record)))
        return result
