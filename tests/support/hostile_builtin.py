"""A connector the tests register as if it were built in: it hangs, hogs memory or dies on
demand, the way a crafted file can make a real built-in parser do.

Registered through the built-in route itself (``printharvest.harvest.plugins.BUILTIN_MODULES``),
so it runs where built-ins run, not in the third-party sandbox.
"""

from __future__ import annotations

import os
import time

from printharvest import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.models import HarvestRecord

MODULE = __name__
HANG_SECONDS = 30.0
"""Long enough that an unbounded run is plainly caught by the tests' time assertions."""
HOG_BYTES = 256 << 20
HOG_CHUNKS = 16
"""4 GiB of address space in zero pages, never touched: free without a cap, refused under it."""


class HostileConnector(FileConnector):
    """Reads ``.hostile`` files: HANG sleeps, HOG asks for 4 GiB, DIE ends the process."""

    id = "test-hostile"
    label = "Hostile test files"
    version = "1"
    patterns = ("*.hostile",)

    def detect(self, probe: FileProbe) -> float:
        """Claims files that start with HOSTILE."""
        return 0.9 if probe.head.startswith(b"HOSTILE") else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record, after doing what the file asks."""
        if b"HANG" in probe.head:
            time.sleep(HANG_SECONDS)
        if b"HOG" in probe.head:
            hog = [bytes(HOG_BYTES) for _ in range(HOG_CHUNKS)]
            del hog
        if b"DIE" in probe.head:
            os._exit(3)
        return [self.new_record(probe, "print", print_time_s=60)]


CONNECTORS = [HostileConnector]
