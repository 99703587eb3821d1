"""Formlabs Web API (Dashboard Developer API) poller.

OAuth2 client credentials: ``POST /developer/v1/o/token/`` (form fields ``grant_type``,
``client_id``, ``client_secret``) gives a Bearer token (kept until it expires); then
``GET /developer/v1/prints/?date__gt=CURSOR&page=N&per_page=M`` pages through the print runs
(``{"count", "next", "previous", "results"}``). HTTP 429 carries ``Retry-After``; the
service waits that long before trying this printer again.

The cursor is the start time of the newest print run before which every run is over, so a
run still printing is fetched again next time and recorded once it finishes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from printharvest.connectors.printer_files.formlabs import is_finished, print_run_fields, print_runs
from printharvest.connectors.units import iso_time
from printharvest.exceptions import PollerError
from printharvest.pollers.base import (
    PollBatch,
    PrinterPoller,
    as_dict,
    polled_record,
    request_json,
    secret,
    timeout_of,
)

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "https://api.formlabs.com"
TOKEN_PATH = "/developer/v1/o/token/"
PRINTS_PATH = "/developer/v1/prints/"
MAX_PAGES = 100


class FormlabsWebPoller(PrinterPoller):
    """Print runs from the Formlabs Web API (one account; optionally one printer serial)."""

    id = "formlabs_web"
    label = "Formlabs Web API (Dashboard)"
    version = "1.0"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._token: str | None = None
        self._token_expires = 0.0

    @property
    def _base(self) -> str:
        return str(self.settings.get("url") or DEFAULT_URL).rstrip("/")

    def _authorize(self, client: httpx.Client) -> str:
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        options = self.settings.get("options") or {}
        client_id = secret(self, "client_id") or options.get("client_id")
        client_secret = secret(self, "client_secret")
        if not client_id or not client_secret:
            raise PollerError(f"{self.settings['name']}: needs client_id and a client_secret "
                              "reference (secrets: {client_secret: env:...})")
        answer = as_dict(request_json(
            client, "POST", self._base + TOKEN_PATH, f"{self.settings['name']}: token",
            data={"grant_type": "client_credentials", "client_id": str(client_id),
                  "client_secret": client_secret}), "token")
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise PollerError(f"{self.settings['name']}: token answer has no access_token")
        lifetime = answer.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
        self._token, self._token_expires = token, time.monotonic() + max(0.0, seconds - 60)
        return token

    def poll(self, since: str | None) -> PollBatch:
        """Finished print runs started after ``since``, and the new cursor."""
        name = str(self.settings["name"])
        options = self.settings.get("options") or {}
        per_page = int(options.get("per_page", 100))
        import httpx

        with httpx.Client(timeout=timeout_of(self)) as client:
            token = self._authorize(client)
            runs: list[dict[str, Any]] = []
            for page in range(1, MAX_PAGES + 1):
                params: dict[str, Any] = {"page": page, "per_page": per_page}
                if since:
                    params["date__gt"] = since
                if self.settings.get("serial"):
                    params["printer"] = self.settings["serial"]
                try:
                    data = as_dict(request_json(
                        client, "GET", self._base + PRINTS_PATH, f"{name}: prints",
                        params=params, headers={"Authorization": f"Bearer {token}"}), "prints")
                except PollerError as exc:
                    if "HTTP 401" in str(exc) or "refused" in str(exc):
                        self._token = None  # let the next poll sign in again
                    raise
                found = print_runs(data)
                if found is None:
                    raise PollerError(f"{name}: prints answer has no results list")
                runs.extend(found)
                if not data.get("next") or not found:
                    break
        return self._batch(runs, since)

    def _batch(self, runs: list[dict[str, Any]], since: str | None) -> PollBatch:
        runs = sorted(runs, key=lambda r: iso_time(r.get("print_started_at")) or "")
        batch = PollBatch(cursor=since)
        settled = True
        for run in runs:
            started = iso_time(run.get("print_started_at"))
            if not is_finished(run):
                settled = False
                continue
            uid = str(run.get("guid") or run.get("id") or started or "")
            if not uid:
                continue
            batch.records.append(polled_record(self, uid, run, print_run_fields(run, [])))
            if settled and started and (batch.cursor is None or started > batch.cursor):
                batch.cursor = started
        return batch
