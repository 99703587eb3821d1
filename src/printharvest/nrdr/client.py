"""The NRDR transaction API: post a transaction, read its status; retries with back-off.

Network errors, timeouts, 429 (honouring Retry-After) and 5xx are retried with exponential
back-off; a 401 renews the access token (a 401 on every attempt ends in "log in again").
Every request's body and headers pass :func:`printharvest.privacy.egress.release`. Tokens never
appear in messages.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from printharvest.exceptions import AuthError, TransmissionError
from printharvest.nrdr.auth import LOG_IN_AGAIN, Session
from printharvest.nrdr.config import NrdrConfig, NrdrEnvironment, require_safe_url
from printharvest.privacy.egress import EgressGuard, release, release_headers
from printharvest.registry.mapping import ApiPaths

USER_AGENT = "printharvest-nrdr-client"


@dataclass
class ApiAnswer:
    """A registry answer: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]
    attempts: int
    readable: bool = True
    """False when the body was not a JSON object (then ``body`` is empty)."""


class NrdrClient:
    """Calls to one environment's transaction API."""

    def __init__(self, env: NrdrEnvironment, paths: ApiPaths, session: Session,
                 http: httpx.Client, settings: NrdrConfig,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.env = env
        self.paths = paths
        self.session = session
        self.http = http
        self.settings = settings
        self.sleep = sleep
        self.on_retry: Callable[[int, int, float, str], None] | None = None
        """Told (attempt, max attempts, seconds to wait, why) before each retry, so that a
        terminal shows progress instead of silence."""
        self.base = require_safe_url(env.api_base).rstrip("/")

    def post_transaction(self, body: bytes, idempotency_key: str,
                         guard: EgressGuard) -> ApiAnswer:
        """Post one transaction (same key on every retry, so the registry keeps one)."""
        return self._call("POST", self.base + self.paths.submit_path, body, guard,
                          {"Idempotency-Key": idempotency_key,
                           "Content-Type": "application/json"})

    def transaction_status(self, transaction_id: str, guard: EgressGuard) -> ApiAnswer:
        """Read one transaction's status and the registry's messages."""
        path = self.paths.status_path.replace("{transaction_id}", transaction_id)
        return self._call("GET", self.base + path, b"", guard, {})

    def transaction_by_key(self, idempotency_key: str, guard: EgressGuard) -> ApiAnswer:
        """Ask the registry for the transaction it holds under ``idempotency_key`` (404 when
        it has none): what decides a post whose success answer could not be read."""
        path = self.paths.lookup_path.replace("{key}", quote(idempotency_key, safe=""))
        return self._call("GET", self.base + path, b"", guard, {})

    def backoff(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``.

        ``Retry-After`` (seconds or an HTTP date) is honoured within [0, retry_max_seconds];
        a value that is not a finite number (NaN, inf, garbage) falls back to the back-off.
        """
        cap = self.settings.retry_max_seconds
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            return min(max(asked, 0.0), cap)
        base: float = self.settings.retry_base_seconds * 2.0 ** (attempt - 1)
        return min(cap, base * (0.5 + random.random() / 2))

    def _call(self, method: str, url: str, body: bytes, guard: EgressGuard,
              extra: dict[str, str]) -> ApiAnswer:
        last = "no attempt made"
        refused = False
        attempt = 0
        while attempt < self.settings.max_attempts:
            attempt += 1
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **extra}
            release(body, guard, "request body")
            release_headers(headers, guard, "request headers")
            retry_after: str | None = None
            refused = False
            try:
                # the sign-in service may be briefly unreachable too: retried like the API
                headers["Authorization"] = "Bearer " + self.session.bearer()
                response = self.http.request(method, url, content=body or None, headers=headers,
                                             timeout=self.settings.timeout_seconds)
            except httpx.TransportError as exc:
                last = f"network error ({type(exc).__name__})"
            except TransmissionError as exc:
                last = str(exc)
            else:
                if response.status_code == 401:
                    # the access token expired or was revoked early: renew it and try again
                    refused = True
                    last = "the registry did not accept the access token"
                    self.session.invalidate()
                    continue
                if response.status_code == 429 or response.status_code >= 500:
                    last = f"the registry answered {response.status_code}"
                    retry_after = response.headers.get("Retry-After")
                else:
                    return ApiAnswer(response.status_code, _json(response), attempt,
                                     readable=_readable(response))
            if attempt < self.settings.max_attempts:
                wait = self.backoff(attempt, retry_after)
                if self.on_retry is not None:
                    self.on_retry(attempt, self.settings.max_attempts, wait, last)
                self.sleep(wait)
        if refused:
            raise AuthError(f"{last}: {LOG_IN_AGAIN}")
        raise TransmissionError(f"gave up after {attempt} attempt(s): {last}", attempts=attempt)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header as seconds from now, or None when it is not usable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return seconds if math.isfinite(seconds) else None


def _readable(response: httpx.Response) -> bool:
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
