"""Example printharvest poller: finished jobs from a lab's print-queue server.

The server is the lab's own small web service in front of its printers (many labs run one;
this example's API is written for the example, not a vendor's): ``GET /api/v1/jobs`` with
``finished_after`` (an ISO 8601 time) answers::

    {"jobs": [{"id": 412, "printer": "bench-2", "state": "finished",
               "started": "2026-03-02T14:00:00+00:00", "ended": "2026-03-02T15:35:30+00:00",
               "material": "PLA", "grams": 21.5, "file": "never read"}],
     "next": null}

``next``, when not null, is the path of the next page. The API token is a secret reference
(``secrets: {api_token: env:LAB_QUEUE_TOKEN}``), sent as a Bearer token. Jobs still printing
are left for a later poll (they hold the cursor back). The job's file name is never read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from printharvest.models import Material, Printer
from printharvest.pollers import (
    PollBatch,
    PollerError,
    PrinterPoller,
    as_dict,
    base_url,
    polled_record,
    request_json,
    secret,
    timeout_of,
)

OUTCOMES = {"finished": "success", "failed": "failed", "cancelled": "aborted"}
MAX_PAGES = 100


class LabQueuePoller(PrinterPoller):
    """Finished jobs of a lab print-queue server."""

    id = "lab-queue"
    label = "Lab print-queue server (example package)"
    version = "1.0.0"

    def poll(self, since: str | None) -> PollBatch:
        """Jobs that ended after ``since`` (ISO 8601), and the newest end time as cursor."""
        import httpx

        name = str(self.settings["name"])
        token = secret(self, "api_token")  # resolved now, never kept on the object
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        batch = PollBatch(cursor=since)
        path: str | None = "/api/v1/jobs"
        params = {"finished_after": since} if since else {}
        with httpx.Client(base_url=base_url(self), timeout=timeout_of(self),
                          headers=headers) as client:
            for _ in range(MAX_PAGES):
                if path is None:
                    break
                page = as_dict(request_json(client, "GET", path, f"{name}: jobs",
                                            params=params), f"{name}: jobs")
                jobs = page.get("jobs")
                if not isinstance(jobs, list):
                    raise PollerError(f"{name}: jobs answer has no jobs list")
                for job in jobs:
                    if isinstance(job, dict):
                        self._add(batch, job)
                following = page.get("next")
                path, params = (following, {}) if isinstance(following, str) else (None, {})
        return batch

    def _add(self, batch: PollBatch, job: dict[str, Any]) -> None:
        outcome = OUTCOMES.get(str(job.get("state")))
        ended = _time(job.get("ended"))
        if outcome is None or ended is None or job.get("id") is None:
            return  # still printing or queued: it comes again once it has ended
        started = _time(job.get("started"))
        grams = job.get("grams")
        materials = []
        if job.get("material") or isinstance(grams, int | float):
            materials.append(Material(name=job.get("material"), role="model",
                                      used_g=float(grams) if isinstance(grams, int | float)
                                      and grams >= 0 else None))
        fields = {
            "printer": Printer(model=self.settings.get("model"),
                               serial=str(job.get("printer")) if job.get("printer") else None),
            "materials": materials,
            "started_at": started.isoformat() if started else None,
            "finished_at": ended.isoformat(),
            "print_duration_s": round((ended - started).total_seconds())
            if started and ended >= started else None,
            "outcome": outcome,
        }
        payload = {k: v for k, v in job.items() if k != "file"}  # no file name, even hashed
        batch.records.append(polled_record(self, str(job["id"]), payload, fields))
        if batch.cursor is None or ended.isoformat() > batch.cursor:
            batch.cursor = ended.isoformat()


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


POLLERS = [LabQueuePoller]
