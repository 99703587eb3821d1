"""Built-in connectors. They register exactly like third-party ones: through ``CONNECTORS``."""

from __future__ import annotations

from .base import FileConnector, PollBatch, PrinterPoller

__all__ = ["FileConnector", "PollBatch", "PrinterPoller"]
