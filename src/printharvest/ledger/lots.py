"""Material lots: the cartridge, tank, spool or lot ids a print's materials came from.

A material's ``lot`` may name several containers joined by ", " (a Formlabs run names its
cartridge and its resin tank). The recall question, "which prints and cases used this lot?",
matches whole ids, case-insensitively.
"""

from __future__ import annotations

from printharvest.models import HarvestRecord


def lots_of(record: HarvestRecord) -> list[str]:
    """Every lot, cartridge, tank or spool id the record's materials name."""
    found: list[str] = []
    for material in record.materials:
        for lot in (material.lot or "").split(","):
            if lot.strip() and lot.strip() not in found:
                found.append(lot.strip())
    return found


def used_lot(record: HarvestRecord, lot: str) -> bool:
    """True when the record's materials name ``lot`` (case-insensitive, whole id)."""
    wanted = lot.strip().casefold()
    return any(found.casefold() == wanted for found in lots_of(record))
