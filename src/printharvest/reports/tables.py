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


def volume_tables(cases: list[CaseFacts]) -> list[Table]:
    """Case volume by month and by status."""
    by_month = Counter(c.month for c in cases)
    return [
        Table("cases_by_month", "Cases by month", ["month", "cases"],
              [[m, by_month[m]] for m in sorted(by_month)], chart="bar", chart_axis="cases"),
        Table("cases_by_status", "Cases by status", ["status", "cases"],
              _counts(c.status for c in cases), chart="barh", chart_axis="cases"),
    ]


def indication_tables(cases: list[CaseFacts]) -> list[Table]:
    """Organ systems and indications driving the volume."""
    return [
        Table("cases_by_organ_system", "Cases by organ system", ["organ system", "cases"],
              _counts(c.organ_system for c in cases), chart="barh", chart_axis="cases"),
        Table("cases_by_indication", "Cases by indication", ["indication", "cases"],
              _counts(c.indication for c in cases), chart="barh", chart_axis="cases"),
    ]


def model_tables(cases: list[CaseFacts]) -> list[Table]:
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
              _counts(c.object_type for c in cases), chart="barh", chart_axis="cases"),
        Table("guide_types", "Guide types", ["guide type", "guides"],
              _counts(c.guide_type for c in guides), chart="barh", chart_axis="guides"),
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
              values: Callable[[CaseFacts], list[str]]) -> Table:
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        for value in values(case):
            grid[case.organ_system or NOT_SET][value] += 1
    columns = sorted({v for row in grid.values() for v in row})
    rows = [[organ, *(grid[organ][c] for c in columns)] for organ in sorted(grid)]
    return Table(key, title, ["organ system", *columns], rows,
                 note="cases counted once per value they use")


def technology_tables(cases: list[CaseFacts]) -> list[Table]:
    """Technology and material by organ system."""
    return [
        _crosstab(cases, "technology_by_organ_system", "Technology by organ system",
                  lambda c: c.technologies),
        _crosstab(cases, "material_by_organ_system", "Material by organ system",
                  lambda c: c.materials),
    ]


def effort_tables(cases: list[CaseFacts]) -> list[Table]:
    """Human effort by kind, clinician and non-clinician, in hours."""
    rows = []
    for kind in EFFORT_KINDS:
        known = [c.effort_minutes[kind] for c in cases if c.effort_minutes[kind] is not None]
        rows.append([kind.replace("_", " "), round(sum(k or 0 for k in known) / 60, 2),
                     len(known), len(cases) - len(known)])
    return [Table("effort_by_kind", "Effort by kind", ["kind", "hours", "cases known",
                                                       "cases unknown"], rows,
                  note="hours summed over the cases where the effort is known",
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
    rows = [[c.id, c.registry_id, c.status, len(c.missing),
             ", ".join(labels.get(_element(m), m) for m in c.missing[:6])
             + (" ..." if len(c.missing) > 6 else "")]
            for c in cases if c.status in ("needs_clinical", "rejected") and c.missing]
    return Table("backlog", "Still missing per case", ["case", "registry id", "status",
                                                       "missing", "first missing elements"],
                 rows)


def _element(name: str) -> str:
    parts = name.split(".")
    return f"{parts[0]}.{parts[2]}" if len(parts) == 3 and parts[1].isdigit() else name


def build_sections(cases: list[CaseFacts], labels: dict[str, str]) -> list[Section]:
    """Every section of the report, in reading order."""
    return [
        Section("Case volume", volume_tables(cases)),
        Section("Organ systems and indications", indication_tables(cases)),
        Section("Models and guides", model_tables(cases)),
        Section("Imaging", imaging_tables(cases)),
        Section("Technologies and materials", technology_tables(cases)),
        Section("Effort", effort_tables(cases)),
        Section("Printers and materials used", resource_tables(cases)),
        Section("Backlog", [backlog_table(cases, labels)]),
    ]
