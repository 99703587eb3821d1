"""Closed vocabularies of the HarvestRecord contract (DESIGN.md section 2 and 3)."""

from __future__ import annotations

from typing import Literal

Technology = Literal[
    "vat_photopolymerization",
    "material_jetting",
    "material_extrusion",
    "powder_bed_fusion",
    "binder_jetting",
    "sheet_lamination",
    "directed_energy_deposition",
]
TECHNOLOGIES: tuple[str, ...] = Technology.__args__  # type: ignore[attr-defined]

RecordKind = Literal["print", "mesh", "imaging", "segmentation"]
Outcome = Literal["success", "failed", "aborted", "unknown"]
MaterialRole = Literal["model", "support"]
TERMINOLOGY_KEYS: tuple[str, ...] = (
    "category", "type", "type_modifier", "region", "region_modifier"
)
"""The keys of a segment's ``terminology`` (DESIGN.md: ``segments``), codes as ``SCHEME:CODE``."""
