"""File connectors: the contract (:mod:`.base`) and the built-in families, one folder each.

Built-ins register exactly like third-party connectors, through a module-level
``CONNECTORS`` list (:mod:`.builtin`).
"""

from __future__ import annotations

from printharvest.connectors.base import FileConnector

__all__ = ["FileConnector"]
