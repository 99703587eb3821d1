"""OctoPrint REST poller: the last print of every file, from ``GET /api/files``.

OctoPrint answers ``{"files": [...]}`` (``recursive=true`` includes folders' ``children``);
each G-code file carries ``gcodeAnalysis`` and ``prints.last`` (``date``, ``printTime``,
``success``). A file's last print newer than the cursor (Unix seconds) is recorded once;
the API key is sent as ``X-Api-Key``. File names are never read into a record; a job's id is
a hash of the file's place and the print's date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from printharvest.connectors.printer_files.octoprint import print_fields
from printharvest.connectors.units import as_float
from printharvest.exceptions import PollerError
from printharvest.models import Printer
from printharvest.pollers.base import (
    PollBatch,
    PrinterPoller,
    as_dict,
    base_url,
    polled_record,
    request_json,
    secret,
    timeout_of,
)

if TYPE_CHECKING:
    pass


def _files(entries: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if not isinstance(entries, list) or depth > 20:
        return
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if entry.get("type") == "folder":
            yield from _files(entry.get("children"), depth + 1)
        else:
            yield entry


class OctoPrintPoller(PrinterPoller):
    """Finished prints from an OctoPrint server's file list."""

    id = "octoprint"
    label = "OctoPrint REST API (file print history)"
    version = "1.0"

    def poll(self, since: str | None) -> PollBatch:
        """Each file's last print newer than ``since`` and the new cursor."""
        name = str(self.settings["name"])
        key = secret(self, "api_key")
        headers = {"X-Api-Key": key} if key else {}
        import httpx

        with httpx.Client(base_url=base_url(self), timeout=timeout_of(self),
                          headers=headers) as client:
            data = as_dict(request_json(client, "GET", "/api/files", f"{name}: files",
                                        params={"recursive": "true"}), "files")
        if not isinstance(data.get("files"), list):
            raise PollerError(f"{name}: files answer has no files list")
        printer = Printer(model=self.settings.get("model"), serial=self.settings.get("serial"))
        floor = as_float(since) if since else None
        batch = PollBatch(cursor=since)
        for entry in _files(data["files"]):
            prints = entry.get("prints") if isinstance(entry.get("prints"), dict) else {}
            last = prints.get("last") if isinstance(prints, dict) else None
            date = as_float(last.get("date")) if isinstance(last, dict) else None
            if not isinstance(last, dict) or date is None or (floor is not None
                                                               and date <= floor):
                continue
            place = f"{entry.get('origin')}/{entry.get('path') or entry.get('name')}"
            uid = hashlib.sha256(f"{place}\0{date!r}".encode()).hexdigest()[:16]
            fields = print_fields(entry.get("gcodeAnalysis"), last, printer.model_copy()
                                  if printer.model or printer.serial else None, [])
            batch.records.append(polled_record(
                self, uid, {"analysis": entry.get("gcodeAnalysis"), "last": last}, fields))
            if batch.cursor is None or date > float(batch.cursor):
                batch.cursor = repr(date)
        return batch
