"""Salted series/study hashes of imaging records (never a clear UID).

One row per series an imaging record counted, so that a case can count distinct studies
across ingests: a second series of a study dropped later adds a series, not a study.
The hashes are HMAC-SHA256 with the home's secret salt (:mod:`printharvest.privacy.phi`).
"""

from __future__ import annotations

from collections.abc import Iterable

from printharvest.connectors.dicom.series import SeriesKey
from printharvest.store.core import Store


def save_series_keys(store: Store, record_id: int, keys: Iterable[SeriesKey]) -> None:
    """Store the salted keys of one imaging record (inside the caller's transaction)."""
    store.conn.executemany(
        "INSERT OR IGNORE INTO imaging_series (record_id, study_hash, series_hash)"
        " VALUES (?, ?, ?)", [(record_id, study, series) for study, series in keys])


def series_keys_for_case(store: Store, case_id: int) -> dict[int, list[SeriesKey]]:
    """``{record_id: [(study_hash, series_hash), ...]}`` for a case's imaging records."""
    rows = store.conn.execute(
        "SELECT s.record_id, s.study_hash, s.series_hash FROM imaging_series s"
        " JOIN records r ON r.id = s.record_id WHERE r.case_id = ?"
        " OR r.id IN (SELECT record_id FROM record_links WHERE case_id = ?)"
        " ORDER BY s.record_id, s.study_hash, s.series_hash", (case_id, case_id))
    found: dict[int, list[SeriesKey]] = {}
    for record_id, study, series in rows:
        found.setdefault(int(record_id), []).append((str(study), str(series)))
    return found
