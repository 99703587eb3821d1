"""HarvestRecord: the contract JSON that ``printharvest inspect --json`` prints.

One record describes one print job, one mesh file or one imaging set (DESIGN.md section 3).
Units are fixed by the field name (``_mm``, ``_ml``, ``_s``, ``_g``); unknown is ``None``
(``null`` in JSON), never 0.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from printharvest.vocab import TERMINOLOGY_KEYS, MaterialRole, Outcome, RecordKind, Technology


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _finite_non_negative(value: float | None) -> float | None:
    if value is None:
        return None
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError("must be a finite, non-negative number")
    return value


class Source(_Strict):
    """Where a record came from: the file, its content hash and the connector that read it."""

    path: str
    sha256: str
    size: int = Field(ge=0)
    connector: str
    connector_version: str
    index: int = Field(default=0, ge=0)


class Slicer(_Strict):
    """The slicer that produced a print file, e.g. ``PrusaSlicer`` ``2.5.0``."""

    name: str
    version: str | None = None


class Printer(_Strict):
    """The printer a job ran on; ``label`` comes from the lab's printer library."""

    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    label: str | None = None


class Material(_Strict):
    """A material actually used by a print, with the amount used in fixed units."""

    name: str | None = None
    code: str | None = None
    type: str | None = None
    material_class: str | None = None
    role: MaterialRole = "model"
    used_g: float | None = None
    used_ml: float | None = None
    used_mm: float | None = None
    lot: str | None = None
    """The container the material came from where the source names it: a cartridge, resin
    tank, spool or lot id (several joined by ", ")."""

    _check_amounts = field_validator("used_g", "used_ml", "used_mm")(_finite_non_negative)


class Part(_Strict):
    """One separate body of a mesh or one build item of a print."""

    name: str | None = None
    volume_ml: float | None = None
    bbox_mm: list[float] | None = None

    @field_validator("bbox_mm")
    @classmethod
    def _three_sizes(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and len(value) != 3:
            raise ValueError("bbox_mm is [x, y, z]")
        return value


class Imaging(_Strict):
    """What the DICOM headers say, after the PHI allow-list (no names, no identifiers)."""

    modalities: list[str] = Field(default_factory=list)
    study_count: int | None = Field(default=None, ge=0)
    series_count: int | None = Field(default=None, ge=0)
    slice_thickness_mm: float | None = None
    scanner_manufacturers: list[str] = Field(default_factory=list)
    contrast: bool | None = None
    patient_age_years: int | None = Field(default=None, ge=0, le=90)
    patient_sex: str | None = None


class Segment(_Strict):
    """One segment of a segmentation (``kind: "segmentation"``).

    ``name`` is the segment's local text (it may hold a patient name: it never leaves);
    ``terminology`` holds standard codes as ``SCHEME:CODE`` strings under the keys of
    :data:`~printharvest.vocab.TERMINOLOGY_KEYS`.
    """

    name: str | None = None
    terminology: dict[str, str] = Field(default_factory=dict)
    volume_ml: float | None = None

    _check_volume = field_validator("volume_ml")(_finite_non_negative)

    @field_validator("terminology")
    @classmethod
    def _known_keys(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - set(TERMINOLOGY_KEYS)
        if unknown:
            raise ValueError(f"unknown terminology keys: {sorted(unknown)}")
        return value


class Software(_Strict):
    """The segmentation or CAD software that made a file, e.g. ``3D Slicer`` ``5.6.2``."""

    name: str
    version: str | None = None


class HarvestRecord(_Strict):
    """One print job, mesh file or imaging set, in the contract's keys and units."""

    kind: RecordKind
    source: Source
    case_key: str | None = None
    slicer: Slicer | None = None
    printer: Printer | None = None
    technology: Technology | None = None
    materials: list[Material] = Field(default_factory=list)
    layer_height_mm: float | None = None
    print_time_s: int | None = Field(default=None, ge=0)
    print_duration_s: int | None = Field(default=None, ge=0)
    started_at: str | None = None
    finished_at: str | None = None
    outcome: Outcome | None = None
    part_count: int | None = Field(default=None, ge=0)
    parts: list[Part] = Field(default_factory=list)
    volume_ml: float | None = None
    surface_area_mm2: float | None = None
    bbox_mm: list[float] | None = None
    watertight: bool | None = None
    imaging: Imaging | None = None
    segments: list[Segment] | None = None
    software: Software | None = None
    warnings: list[str] = Field(default_factory=list)

    _check_sizes = field_validator(
        "layer_height_mm", "volume_ml", "surface_area_mm2"
    )(_finite_non_negative)

    @field_validator("bbox_mm")
    @classmethod
    def _three_sizes(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and len(value) != 3:
            raise ValueError("bbox_mm is [x, y, z]")
        return value

    def to_json_dict(self) -> dict[str, Any]:
        """The contract JSON object, every key present (unknown as ``None``).

        ``segments`` is a key of segmentation records only (DESIGN.md): absent elsewhere.
        ``software`` is always present on segmentation records; other kinds carry it only
        when a file named its exporter, so records that never have one keep their shape.
        A material carries ``lot`` only where the source named its lot (DESIGN.md: "may
        carry").
        """
        data = self.model_dump(mode="json")
        if self.segments is None:
            data.pop("segments")
        if self.software is None and self.kind != "segmentation":
            data.pop("software")
        for material in data["materials"]:
            if material.get("lot") is None:
                material.pop("lot", None)
        return data
