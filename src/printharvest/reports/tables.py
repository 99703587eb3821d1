"""The report's numbers, as titled tables: one function per question the registry asks.

Every table is plain data (title, columns, rows, unit note), so the HTML, the CSV and the
tests read the very same numbers.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from printharvest.reports.facts import EFFORT_KINDS, CaseFacts

NOT_SET = "not yet set"
Words = Callable[[str, str], str]
"""Puts a code of a dictionary element in words: ``words("imaging.organ_system", "cardiac")``."""


def _plain(element: str, code: str) -> str:
    return code
VOLUME_BINS: tuple[tuple[float, float], ...] = (
    (0, 10), (10, 50), (50, 100), (100, 250), (250, 500), (500, float("inf")))


@dataclass
class Table:
    """A titled table; ``chart`` names how to draw it (or None for a table only)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    chart: str | None = None
    chart_axis: str = ""

    def column(self, name: str) -> list[Any]:
        """One column's values."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def as_dict(self, key_column: int = 0, value_column: int = 1) -> dict[Any, Any]:
        """Rows as {key: value}."""
        return {row[key_column]: row[value_column] for row in self.rows}


@dataclass
class Section:
    """A group of tables under one heading."""

    title: str
    tables: list[Table] = field(default_factory=list)


def _counts(values: Iterable[Any]) -> list[list[Any]]:
    counter = Counter(NOT_SET if v is None else v for v in values)
    return [[k, n] for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def _named(values: Iterable[str | None], element: str, words: Words) -> list[list[Any]]:
    """Counts of codes, each row named in words (a code the dictionary does not allow was
    already turned into INVALID by the facts, so it never shows as a category)."""
    return _counts(None if v is None else words(element, v) for v in values)


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), both included."""
    year, month = int(first[:4]), int(first[5:7])
    result = []
    while f"{year:04d}-{month:02d}" <= last:
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def volume_tables(cases: list[CaseFacts]) -> list[Table]:
    """Case volume by month (a month without cases is a zero, not a gap) and by status."""
    by_month = Counter(c.month for c in cases)
    months = months_between(min(by_month), max(by_month)) if by_month else []
    return [
        Table("cases_by_month", "Cases by month", ["month", "cases"],
              [[m, by_month[m]] for m in months], chart="bar", chart_axis="cases"),
        Table("cases_by_status", "Cases by status", ["status", "cases"],
              _counts(c.status.replace("_", " ") for c in cases), chart="barh",
              chart_axis="cases"),
    ]


def indication_tables(cases: list[CaseFacts], words: Words = _plain) -> list[Table]:
    """Organ systems and indications driving the volume."""
    return [
        Table("cases_by_organ_system", "Cases by organ system", ["organ system", "cases"],
              _named((c.organ_system for c in cases), "imaging.organ_system", words),
              chart="barh", chart_axis="cases"),
        Table("cases_by_indication", "Cases by indication", ["indication", "cases"],
              _named((c.indication for c in cases), "imaging.indication", words),
              chart="barh", chart_axis="cases"),
    ]


def model_tables(cases: list[CaseFacts], words: Words = _plain) -> list[Table]:
    """Model vs guide, guide types, parts per model, model volume distribution."""
    guides = [c for c in cases if c.object_type == "anatomic_guide"]
    parts = [c.part_count for c in cases if c.part_count is not None]
    part_rows = [[n, k] for n, k in sorted(Counter(parts).items())]
    volumes = [c.volume_ml for c in cases if c.volume_ml is not None]
    bins = []
    for low, high in VOLUME_BINS:
        label = f"{low:g}-{high:g} mL" if high != float("inf") else f"over {low:g} mL"
        bins.append([label, sum(1 for v in volumes if low <= v < high)])
    note = (f"median {statistics.median(parts):g} parts, mean {statistics.mean(parts):.2f}"
            if parts else "no part counts yet")
    return [
        Table("object_types", "Anatomic models and guides", ["type of object", "cases"],
              _named((c.object_type for c in cases), "model.object_type", words),
              chart="barh", chart_axis="cases"),
        Table("guide_types", "Guide types", ["guide type", "guides"],
              _named((c.guide_type for c in guides), "model.guide_type", words),
              chart="barh", chart_axis="guides"),
        Table("parts_per_model", "Anatomic parts per model", ["parts", "cases"], part_rows,
              note=note, chart="bar", chart_axis="cases"),
        Table("model_volume", "Model volume distribution", ["model volume", "cases"], bins,
              note=f"{len(volumes)} case(s) with a known volume", chart="bar",
              chart_axis="cases"),
    ]


def imaging_tables(cases: list[CaseFacts]) -> list[Table]:
    """Multi-modality share and cases by modality."""
    known = [c for c in cases if c.modalities]
    multi = sum(1 for c in known if len(c.modalities) > 1)
    share = f"{100 * multi / len(known):.1f}%" if known else "n/a"
    return [
        Table("multi_modality", "Cases with more than one imaging modality",
              ["cases with imaging", "more than one modality", "share"],
              [[len(known), multi, share]]),
        Table("cases_by_modality", "Cases by imaging modality", ["modality", "cases"],
              _counts(m for c in known for m in c.modalities), chart="barh",
              chart_axis="cases"),
    ]


def _crosstab(cases: list[CaseFacts], key: str, title: str,
              values: Callable[[CaseFacts], list[str]], words: Words) -> Table:
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        organ = (words("imaging.organ_system", case.organ_system) if case.organ_system
                 else NOT_SET)
        for value in values(case):
            grid[organ][value] += 1
    columns = sorted({v for row in grid.values() for v in row})
    rows = [[organ, *(grid[organ][c] for c in columns)] for organ in sorted(grid)]
    return Table(key, title, ["organ system", *columns], rows,
                 note="cases counted once per value they use")


def technology_tables(cases: list[CaseFacts], words: Words = _plain) -> list[Table]:
    """Technology and material by organ system."""
    return [
        _crosstab(cases, "technology_by_organ_system", "Technology by organ system",
                  lambda c: [words("prints.technology", t) for t in c.technologies], words),
        _crosstab(cases, "material_by_organ_system", "Material by organ system",
                  lambda c: c.materials, words),
    ]


def effort_tables(cases: list[CaseFacts], labels: dict[str, str] | None = None) -> list[Table]:
    """Human effort by kind, in hours, and how many cases recorded it, recorded it as unknown,
    or have not entered it yet."""
    labels = labels or {}
    rows = []
    for kind in EFFORT_KINDS:
        known = [c.effort_minutes[kind] for c in cases if c.effort_minutes[kind] is not None]
        unknown = sum(1 for c in cases if c.effort_states.get(kind) == "unknown")
        rows.append([labels.get(f"effort.{kind}", kind.replace("_", " ")),
                     round(sum(k or 0 for k in known) / 60, 2),
                     len(known), unknown, len(cases) - len(known) - unknown])
    return [Table("effort_by_kind", "Effort by kind",
                  ["kind", "hours", "cases entered", "recorded as unknown", "not entered"], rows,
                  note="hours summed over the cases where the effort was entered",
                  chart="barh", chart_axis="hours")]


def _resource_rows(cases: list[CaseFacts], key: Callable[[Any], str]) -> list[list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for case in cases:
        for job in case.jobs:
            groups[key(job)].append(job)
    rows = []
    for name in sorted(groups):
        jobs = groups[name]
        judged = [j for j in jobs if j.outcome in ("success", "failed", "aborted")]
        success = sum(1 for j in judged if j.outcome == "success")
        failed = len(judged) - success
        rate = f"{100 * success / len(judged):.0f}%" if judged else "n/a"
        failure = f"{100 * failed / len(judged):.0f}%" if judged else "n/a"
        rows.append([name, len(jobs), round(sum(j.time_h or 0 for j in jobs), 2),
                     round(sum(j.used_g or 0 for j in jobs), 1),
                     round(sum(j.used_ml or 0 for j in jobs), 1), rate, failed, failure])
    return rows


def resource_tables(cases: list[CaseFacts]) -> list[Table]:
    """Printer hours, material used and success rate per printer and per material."""
    columns = ["jobs", "print hours", "material g", "material mL", "success rate",
               "failed or aborted", "failure rate"]
    return [
        Table("per_printer", "Printers", ["printer", *columns],
              _resource_rows(cases, lambda j: j.printer), chart="barh", chart_axis="print hours",
              note="print hours: actual duration where the printer reported it, else the "
                   "slicer estimate; success and failure rates over jobs with a known outcome"
                   " (failed and aborted prints count here, not as registry prints)"),
        Table("per_material", "Materials", ["material", *columns],
              _resource_rows(cases, lambda j: j.material), chart="barh",
              chart_axis="print hours"),
    ]


def backlog_table(cases: list[CaseFacts], labels: dict[str, str]) -> Table:
    """What each open case still lacks (the data manager's backlog)."""
    rows = [[c.id, c.registry_id, c.status.replace("_", " "), len(c.missing),
             ", ".join(labels.get(_element(m), m) for m in c.missing[:6])
             + (" ..." if len(c.missing) > 6 else "")]
            for c in cases if c.status in ("needs_clinical", "rejected") and c.missing]
    return Table("backlog", "Still missing per case", ["case", "registry id", "status",
                                                       "missing", "first missing elements"],
                 rows)


def _element(name: str) -> str:
    parts = name.split(".")
    return f"{parts[0]}.{parts[2]}" if len(parts) == 3 and parts[1].isdigit() else name


def build_sections(cases: list[CaseFacts], labels: dict[str, str],
                   words: Words = _plain) -> list[Section]:
    """Every section of the report, in reading order; ``labels`` are the elements' labels and
    ``words`` puts codes in words."""
    return [
        Section("Case volume", volume_tables(cases)),
        Section("Organ systems and indications", indication_tables(cases, words)),
        Section("Models and guides", model_tables(cases, words)),
        Section("Imaging", imaging_tables(cases)),
        Section("Technologies and materials", technology_tables(cases, words)),
        Section("Effort", effort_tables(cases, labels)),
        Section("Printers and materials used", resource_tables(cases)),
        Section("Backlog", [backlog_table(cases, labels)]),
    ]
