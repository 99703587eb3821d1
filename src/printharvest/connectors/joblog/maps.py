"""Column maps for the generic CSV/XLSX job-log connector (``rules/joblogs/*.yaml``).

A column map tells :mod:`printharvest.connectors.joblog.connector` how to read one printer's or one
program's job export: how to recognise it (required header columns, sheet name), which
column fills which contract field, in which unit, how dates are written and in which time
zone, how outcome words map to the contract's outcomes, and defaults for the printer, the
material and the technology. ``docs/connectors.md`` has a worked example.

Where maps come from: every ``*.yaml`` file in the shipped ``rules/joblogs/`` folder, plus
every ``*.yaml`` file in the lab's ``<rules_dir>/joblogs/`` (a lab map with the same
``name`` as a shipped one replaces it). The connector knows the lab's rules folder from its
harvest context (``None`` = shipped maps only). Maps are loaded lazily and cached by file
mtimes.

A map that does not validate is skipped; :func:`load_maps` returns it as a one-line problem
naming the file, the key and the line (shown by ``printharvest connectors test``).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from printharvest.exceptions import ConfigError
from printharvest.rules.shipped import shipped_rules
from printharvest.rules.yamlfile import validate_yaml
from printharvest.vocab import Outcome, Technology

JOBLOGS_DIR = "joblogs"

TIME_UNITS = ("s", "seconds", "min", "minutes", "h", "hours", "duration")
MASS_UNITS = ("g", "kg", "mg", "lb", "oz")
VOLUME_UNITS = ("ml", "cm3", "l", "mm3", "in3")
LENGTH_UNITS = ("mm", "cm", "m", "um", "in")

# Each mappable field and the units it accepts (None: text, date, outcome or count).
FIELD_UNITS: dict[str, tuple[str, ...] | None] = {
    "case_key": None,
    "printer.manufacturer": None,
    "printer.model": None,
    "printer.serial": None,
    "printer.label": None,
    "technology": None,
    "slicer.name": None,
    "slicer.version": None,
    "started_at": None,
    "finished_at": None,
    "outcome": None,
    "part_count": None,
    "print_time_s": TIME_UNITS,
    "print_duration_s": TIME_UNITS,
    "layer_height_mm": LENGTH_UNITS,
    "volume_ml": VOLUME_UNITS,
}
for _role in ("material", "support"):
    FIELD_UNITS.update({
        f"{_role}.name": None,
        f"{_role}.code": None,
        f"{_role}.type": None,
        f"{_role}.lot": None,
        f"{_role}.used_g": MASS_UNITS,
        f"{_role}.used_ml": VOLUME_UNITS,
        f"{_role}.used_mm": LENGTH_UNITS,
    })

DEFAULT_UNIT = {"_s": "s", "_g": "g", "_ml": "ml", "_mm": "mm"}

DEFAULT_OUTCOMES: dict[str, Outcome] = {
    "success": "success", "successful": "success", "succeeded": "success",
    "completed": "success", "complete": "success", "finished": "success", "done": "success",
    "ok": "success", "printed": "success",
    "failed": "failed", "failure": "failed", "error": "failed", "fail": "failed",
    "aborted": "aborted", "abort": "aborted", "canceled": "aborted", "cancelled": "aborted",
    "stopped": "aborted",
    "unknown": "unknown",
}


def normalise_header(text: str) -> str:
    """How headers are compared: case-folded, whitespace collapsed, BOM dropped."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnSpec(_Strict):
    """One column: the contract field it fills and, for amounts, its unit."""

    field: str
    unit: str | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value not in FIELD_UNITS:
            raise ValueError(f"unknown field {value!r}; one of: {', '.join(sorted(FIELD_UNITS))}")
        return value

    @model_validator(mode="after")
    def _unit_fits(self) -> ColumnSpec:
        allowed = FIELD_UNITS[self.field]
        if self.unit is not None:
            self.unit = self.unit.strip().lower().replace("³", "3")
            if allowed is None:
                raise ValueError(f"field {self.field} takes no unit")
            if self.unit not in allowed:
                raise ValueError(f"unit {self.unit!r} does not fit {self.field}; "
                                 f"one of: {', '.join(allowed)}")
        elif allowed is not None:
            self.unit = next(u for s, u in DEFAULT_UNIT.items() if self.field.endswith(s))
        return self


class Recognise(_Strict):
    """How to tell this export from other tables."""

    required_columns: list[str] = Field(min_length=1)
    sheet: str | None = None
    """For XLSX: the sheet to read (default: the first sheet whose header fits)."""


class FileOptions(_Strict):
    """How the file is written."""

    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    encoding: str = "utf-8"
    """``utf-8`` also accepts a BOM; ``cp1252`` / ``latin-1`` for older Windows exports."""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


class DateOptions(_Strict):
    """How dates are written and which time zone naive dates are in."""

    formats: list[str] = Field(default_factory=list)
    """strptime formats, tried in order after ISO 8601 (e.g. ``%d.%m.%Y %H:%M``)."""
    timezone: str | None = None
    """IANA zone name (``Europe/Berlin``, ``UTC``); without it naive times stay naive."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class PrinterDefaults(_Strict):
    """Printer values used when the row does not say."""

    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    label: str | None = None


class MaterialDefaults(_Strict):
    """Material values used when the row does not say."""

    name: str | None = None
    code: str | None = None
    type: str | None = None


class Defaults(_Strict):
    """Values every record of this export gets unless a column says otherwise."""

    printer: PrinterDefaults = Field(default_factory=PrinterDefaults)
    material: MaterialDefaults = Field(default_factory=MaterialDefaults)
    support: MaterialDefaults = Field(default_factory=MaterialDefaults)
    technology: Technology | None = None


class SkipRows(_Strict):
    """Rows to leave out: those whose cell in ``column`` is one of ``values``.

    For jobs still printing (or queued): they are not records yet, and come again, finished,
    in a later export. The column need not be mapped; words compare like headers (case and
    spacing ignored).
    """

    column: str
    values: list[str] = Field(min_length=1)

    def matches(self, cell: object) -> bool:
        """True when ``cell`` holds one of the words."""
        if cell is None:
            return False
        return normalise_header(str(cell)) in {normalise_header(v) for v in self.values}


class ColumnMap(_Strict):
    """One ``rules/joblogs/*.yaml`` file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    label: str | None = None
    recognise: Recognise
    file: FileOptions = Field(default_factory=FileOptions)
    dates: DateOptions = Field(default_factory=DateOptions)
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    outcomes: dict[str, Outcome] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)
    skip_rows: list[SkipRows] = Field(default_factory=list)
    """Rows not to harvest (e.g. a status column saying ``printing`` or ``queued``)."""

    @field_validator("columns", mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        # "Used Weight [g]": material.used_g is short for {field: material.used_g}.
        if isinstance(value, dict):
            return {k: {"field": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _normalise(self) -> ColumnMap:
        self.outcomes = {normalise_header(k): v for k, v in self.outcomes.items()}
        return self

    def specs(self) -> dict[str, ColumnSpec]:
        """Normalised header -> column spec."""
        return {normalise_header(k): v for k, v in self.columns.items()}

    def outcome_of(self, word: str) -> Outcome | None:
        """The contract outcome of a log's outcome word (map first, then common words)."""
        key = normalise_header(word)
        return self.outcomes.get(key) or DEFAULT_OUTCOMES.get(key)


@dataclass(frozen=True)
class LoadedMap:
    """A validated map and the file it came from."""

    map: ColumnMap
    path: Path


@dataclass(frozen=True)
class MapSet:
    """Every usable map, and the one-line problems of those that did not validate."""

    maps: tuple[LoadedMap, ...]
    problems: tuple[str, ...]


_cache: dict[tuple[tuple[str, float], ...], MapSet] = {}


def map_files(rules_dir: Path | None) -> list[Path]:
    """Shipped map files first, then the lab's (sorted by name within each)."""
    folders = [shipped_rules() / JOBLOGS_DIR]
    if rules_dir is not None:
        lab = rules_dir / JOBLOGS_DIR
        if lab.is_dir() and lab.resolve() != folders[0].resolve():
            folders.append(lab)
    files: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.yaml")))
    return files


def load_map(path: Path) -> ColumnMap:
    """Read and validate one map file; a ConfigError names the file, the key and the line."""
    return validate_yaml(ColumnMap, path)


def load_maps(rules_dir: Path | None) -> MapSet:
    """Every valid map (a lab map replaces a shipped one of the same name), cached by mtime.

    ``rules_dir`` is the lab's rules folder, or None for the shipped maps alone.
    """
    files = map_files(rules_dir)
    key = tuple((str(p), _mtime(p)) for p in files)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    by_name: dict[str, LoadedMap] = {}
    problems: list[str] = []
    for path in files:
        try:
            column_map = load_map(path)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        by_name[column_map.name] = LoadedMap(column_map, path)
    result = MapSet(tuple(by_name.values()), tuple(problems))
    if len(_cache) > 16:
        _cache.clear()
    _cache[key] = result
    return result


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0
