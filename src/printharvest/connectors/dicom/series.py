"""Imaging records that carry salted series/study hashes beside the contract JSON.

The contract's ``imaging`` object holds counts only. To count studies and series across
ingests (a second series of a study dropped later must not add a study), the DICOM
connector returns an :class:`ImagingRecord`: a HarvestRecord whose private attribute holds
``(study_hash, series_hash)`` pairs. Private attributes are not part of ``model_dump``, so
the hashes never reach JSON output; the case service stores them in their own table.
"""

from __future__ import annotations

from typing import Any

from pydantic import PrivateAttr

from printharvest.models import HarvestRecord

SeriesKey = tuple[str, str]
"""``(salted study hash, salted series hash)``."""


class ImagingRecord(HarvestRecord):
    """A HarvestRecord of kind ``imaging`` with the salted hashes of its series."""

    _series_keys: list[SeriesKey] = PrivateAttr(default_factory=list)

    @property
    def series_keys(self) -> list[SeriesKey]:
        """The ``(study_hash, series_hash)`` pairs this record counted."""
        return list(self._series_keys)

    def set_series_keys(self, keys: list[SeriesKey]) -> None:
        """Attach the salted hashes (never clear UIDs)."""
        self._series_keys = sorted(set(keys))


def series_keys(record: HarvestRecord) -> list[SeriesKey] | None:
    """The series keys of an imaging record, or None when it carries none."""
    if isinstance(record, ImagingRecord):
        return record.series_keys
    return None


def record_from_json(data: dict[str, Any], keys: list[list[str]] | None) -> HarvestRecord:
    """Rebuild a record sent between processes as JSON, with its salted series keys.

    The contract JSON has no place for the hashes, so a worker sends them beside it.
    """
    if keys is None:
        return HarvestRecord.model_validate(data)
    record = ImagingRecord.model_validate(data)
    record.set_series_keys([(study, series) for study, series in keys])
    return record
