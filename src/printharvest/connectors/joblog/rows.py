"""One job-log row to HarvestRecord fields, through a column map.

Warnings name the column (from the map), never the cell's content: a job log can hold job
names and free text, and records may leave the lab.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from printharvest.connectors.joblog.cells import (
    check_limit,
    convert_amount,
    is_blank,
    parse_count,
    parse_datetime,
    parse_seconds,
    parse_technology,
    text_value,
)
from printharvest.connectors.joblog.maps import (
    ColumnMap,
    ColumnSpec,
    MaterialDefaults,
)
from printharvest.exceptions import ConfigError
from printharvest.models import Material, Printer, Slicer
from printharvest.rules.lab import CASE_KEYS_FILE, Rules, rules_file

Column = tuple[int, str, ColumnSpec]


def row_record(
    column_map: ColumnMap, columns: list[Column], row: list[Any], header_len: int,
    rules_dir: Path | None,
) -> tuple[dict[str, Any] | None, list[str]]:
    """Record fields for ``row`` and the warnings; ``None`` when no mapped cell has a value.

    ``rules_dir`` is the lab's rules folder, whose case-key rules key a row naming its job file.
    """
    warnings: list[str] = []
    width = len(row)
    while width and is_blank(row[width - 1]):
        width -= 1
    last_mapped = max((i for i, _, _ in columns), default=-1)
    if width > header_len or len(row) <= last_mapped:
        warnings.append(f"row has {width} cells, the header has {header_len}")
    values: dict[str, Any] = {}
    filled = 0
    for i, name, spec in columns:
        if i >= len(row) or is_blank(row[i]):
            continue
        filled += 1
        try:
            values[spec.field] = _convert(spec, row[i], column_map, rules_dir)
        except ValueError as exc:
            warnings.append(f"column '{name}': {exc}; left unknown")
    if not filled:
        return None, warnings
    return _assemble(column_map, values, warnings), warnings


def _convert(
    spec: ColumnSpec, cell: Any, column_map: ColumnMap, rules_dir: Path | None
) -> Any:
    field = spec.field
    leaf = field.rsplit(".", 1)[-1]
    unit = spec.unit or ""
    if field in ("started_at", "finished_at"):
        return parse_datetime(cell, column_map.dates.formats, column_map.dates.timezone)
    if field == "outcome":
        outcome = column_map.outcome_of(text_value(cell))
        if outcome is None:
            raise ValueError("outcome word is not in the map's outcomes")
        return outcome
    if field == "technology":
        return parse_technology(cell)
    if field == "case_key":
        return job_case_key(text_value(cell), rules_dir)
    if field == "part_count":
        return int(check_limit("part_count", parse_count(cell)))
    if field in ("print_time_s", "print_duration_s"):
        return round(check_limit(field, parse_seconds(cell, unit)))
    if leaf in ("used_g", "used_ml", "used_mm") or field in ("layer_height_mm", "volume_ml"):
        key = leaf if leaf.startswith("used_") else field
        return round(check_limit(key, convert_amount(cell, unit)), 6)
    if isinstance(cell, dt.datetime | dt.date):
        return cell.isoformat()
    return text_value(cell)


def _assemble(column_map: ColumnMap, values: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    defaults = column_map.defaults
    fields: dict[str, Any] = {}
    if values.get("case_key"):
        fields["case_key"] = values["case_key"]
    printer = {k: values.get(f"printer.{k}", getattr(defaults.printer, k))
               for k in ("manufacturer", "model", "serial", "label")}
    if any(v is not None for v in printer.values()):
        fields["printer"] = Printer(**printer)
    materials = [m for m in (_material(values, "material", defaults.material),
                             _material(values, "support", defaults.support)) if m is not None]
    fields["materials"] = materials
    if "slicer.name" in values:
        fields["slicer"] = Slicer(name=values["slicer.name"], version=values.get("slicer.version"))
    fields["technology"] = values.get("technology", defaults.technology)
    for key in ("layer_height_mm", "print_time_s", "print_duration_s", "started_at",
                "finished_at", "outcome", "part_count", "volume_ml"):
        if key in values:
            fields[key] = values[key]
    if "print_duration_s" not in values and "started_at" in values and "finished_at" in values:
        fields["print_duration_s"] = _elapsed(values["started_at"], values["finished_at"],
                                              warnings)
    return fields


def _material(values: dict[str, Any], role: str, default: MaterialDefaults) -> Material | None:
    found = {k: values.get(f"{role}.{k}") for k in ("name", "code", "type", "used_g",
                                                    "used_ml", "used_mm")}
    has_amount = any(found[k] is not None for k in ("used_g", "used_ml", "used_mm"))
    has_identity = any(found[k] is not None for k in ("name", "code", "type"))
    if not (has_amount or has_identity):
        return None  # no material of this role in this row (defaults alone do not make one)
    if all(found[k] == 0 for k in ("used_g", "used_ml", "used_mm") if found[k] is not None) \
            and has_amount and role == "support":
        return None  # a support column holding 0: no support was used
    for k in ("name", "code", "type"):
        if found[k] is None:
            found[k] = getattr(default, k)
    lot = values.get(f"{role}.lot")
    return Material(role="model" if role == "material" else "support",
                    lot=str(lot) if lot is not None else None, **found)


def _elapsed(start: str, end: str, warnings: list[str]) -> int | None:
    try:
        seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start))
    except (ValueError, TypeError):  # TypeError: one time has a zone, the other not
        return None
    total = seconds.total_seconds()
    if total < 0:
        warnings.append("finished before it started: duration left unknown")
        return None
    return round(total)


def job_case_key(job_file: str, rules_dir: Path | None) -> str | None:
    """The case key of a job named by its file (``/cases/3DP-2026-014/liver.gcode``).

    The lab's case-key rules are applied to the path as written in the log. Without a
    matching rule there is no key here: the harvester keys the row by printer and job, since
    a job name alone (``heart_demo``) is no proof that two printers' jobs are one case.
    The key stays in the local store only (it may hold a job name).
    """
    parts = tuple(p for p in job_file.replace("\\", "/").split("/") if p.strip())
    if not parts:
        return None
    rules = _case_rules(rules_dir)
    key, rule = rules.case_key(parts)
    return (key or None) if rule.startswith(CASE_KEYS_FILE) else None


_rules_cache: dict[tuple[str, float], Rules] = {}


def _case_rules(folder: Path | None) -> Rules:
    """The case-key rules of the lab (cached until the file changes)."""
    path = rules_file(folder, CASE_KEYS_FILE)
    try:
        cache_key = (str(path), path.stat().st_mtime)
    except OSError:
        cache_key = (str(path), -1.0)
    if cache_key not in _rules_cache:
        try:
            rules = Rules.load(folder)
        except ConfigError as exc:
            raise ValueError("the case-key rules do not load") from exc
        _rules_cache.clear()
        _rules_cache[cache_key] = rules
    return _rules_cache[cache_key]
