"""The built-in printer pollers, registered the same way a plugin registers its own."""

from __future__ import annotations

from printharvest.pollers.base import PrinterPoller
from printharvest.pollers.formlabs import FormlabsWebPoller
from printharvest.pollers.moonraker import MoonrakerPoller
from printharvest.pollers.octoprint import OctoPrintPoller
from printharvest.pollers.stratasys import StratasysPoller

POLLERS: list[type[PrinterPoller]] = [
    FormlabsWebPoller,
    StratasysPoller,
    OctoPrintPoller,
    MoonrakerPoller,
]
