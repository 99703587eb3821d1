"""Moonraker (Klipper) job history poller: ``GET /server/history/list``.

Asks for jobs in ascending order that started after the cursor (``since``, Unix seconds),
``limit``/``start`` paging; Moonraker answers ``{"result": {"count", "jobs": [...]}}``.
A job still ``in_progress`` holds the cursor back, so it is recorded once it is over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from printharvest.connectors.printer_files.moonraker import is_finished, job_fields
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

PAGE = 50
MAX_PAGES = 200


class MoonrakerPoller(PrinterPoller):
    """Finished jobs from a Moonraker server's history."""

    id = "moonraker"
    label = "Moonraker job history (Klipper printers)"
    version = "1.0"

    def poll(self, since: str | None) -> PollBatch:
        """Finished jobs that started after ``since`` and the new cursor."""
        name = str(self.settings["name"])
        headers = {}
        key = secret(self, "api_key")
        if key:
            headers["X-Api-Key"] = key
        jobs: list[dict[str, Any]] = []
        import httpx

        with httpx.Client(base_url=base_url(self, default_port=7125),
                          timeout=timeout_of(self), headers=headers) as client:
            for page in range(MAX_PAGES):
                params: dict[str, Any] = {"order": "asc", "limit": PAGE, "start": page * PAGE}
                if since is not None:
                    params["since"] = since
                data = as_dict(request_json(client, "GET", "/server/history/list",
                                            f"{name}: history", params=params), "history")
                result = data.get("result", data)
                found = result.get("jobs") if isinstance(result, dict) else None
                if not isinstance(found, list) or not all(isinstance(j, dict) for j in found):
                    raise PollerError(f"{name}: history answer has no jobs list")
                jobs.extend(found)
                if len(found) < PAGE:
                    break
        return self._batch(jobs, since)

    def _batch(self, jobs: list[dict[str, Any]], since: str | None) -> PollBatch:
        printer = Printer(model=self.settings.get("model"), serial=self.settings.get("serial"))
        batch = PollBatch(cursor=since)
        settled = True
        for job in sorted(jobs, key=lambda j: as_float(j.get("start_time")) or 0.0):
            start = as_float(job.get("start_time"))
            uid = str(job.get("job_id") or "")
            if not is_finished(job):
                settled = False
                continue
            if not uid or start is None:
                continue
            fields = job_fields(job, printer.model_copy() if printer.model or printer.serial
                                else None, [])
            batch.records.append(polled_record(self, uid, job, fields))
            if settled and (batch.cursor is None or start > float(batch.cursor)):
                batch.cursor = repr(start)
        return batch
