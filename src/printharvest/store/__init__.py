"""The SQLite store. All SQL in printharvest lives in this package.

One file, WAL mode, foreign keys on; every write runs in an explicit transaction, so a
crash between two records loses neither. Schema changes are migrations
(:mod:`printharvest.store.migrations`).
"""

from __future__ import annotations

from printharvest.store.core import CaseRow, Store, StoredRecord

__all__ = ["CaseRow", "Store", "StoredRecord"]
