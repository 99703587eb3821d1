"""Example drop-in connector: a lab's own JSON "job ticket".

Copy this file into your home's ``connectors/`` folder (``printharvest init`` shows where) and
it is loaded next to the built-in connectors; ``printharvest connectors list`` shows it, and
``printharvest connectors test FILE`` shows how it scores a file.

The format it reads is a small JSON file some labs write beside each job, e.g.
``liver.jobticket.json``::

    {"ticket": "printharvest-job-ticket/1",
     "printer": {"manufacturer": "Formlabs", "model": "Form 3B", "serial": "EagerSnail"},
     "material": "Clear Resin", "layer_height_mm": 0.1, "print_hours": 6.5}

The contract (see ``printharvest.connectors.base``):

* ``detect`` looks only at the probe (size, first/last MiB) and returns a score in [0, 1];
  it must be cheap and must never raise;
* ``harvest`` returns a list of HarvestRecords, or raises CorruptFileError with a one-line
  reason (never a file's content).
"""

from __future__ import annotations

import json

from printharvest import (
    CorruptFileError,
    FileConnector,
    FileProbe,
    HarvestRecord,
    Material,
    Printer,
)

TICKET_TAG = "printharvest-job-ticket/1"


class JobTicketConnector(FileConnector):
    """Reads ``*.jobticket.json`` files written by the lab's own job sheet."""

    id = "example-job-ticket"
    label = "Example: lab JSON job ticket"
    version = "1.0"
    patterns = ("*.jobticket.json",)

    def detect(self, probe: FileProbe) -> float:
        if TICKET_TAG.encode() in probe.head[:4096]:
            return 0.9
        return 0.3 if probe.matches(self.patterns) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        try:
            ticket = json.loads(probe.read_all(1 << 20))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptFileError(probe.display_path, "job ticket is not valid JSON") from exc
        if not isinstance(ticket, dict) or ticket.get("ticket") != TICKET_TAG:
            raise CorruptFileError(probe.display_path, "not a version 1 job ticket")
        printer = ticket.get("printer") or {}
        hours = ticket.get("print_hours")
        return [
            self.new_record(
                probe,
                "print",
                printer=Printer(manufacturer=printer.get("manufacturer"),
                                model=printer.get("model"), serial=printer.get("serial")),
                materials=[Material(name=ticket.get("material"), role="model")]
                if ticket.get("material") else [],
                layer_height_mm=ticket.get("layer_height_mm"),
                print_time_s=round(hours * 3600) if isinstance(hours, int | float) else None,
            )
        ]


CONNECTORS = [JobTicketConnector]
