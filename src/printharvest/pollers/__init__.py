"""Printer pollers: pull finished jobs from printers and their APIs.

The contract and shared helpers are in :mod:`.base`; the built-ins register like plugins
through :mod:`.builtin` (``POLLERS``); :class:`~printharvest.pollers.service.PollerService`
runs them (import it from ``printharvest.pollers.service``).
"""

from __future__ import annotations

from printharvest.pollers.base import PollBatch, PrinterPoller

__all__ = ["PollBatch", "PrinterPoller"]
