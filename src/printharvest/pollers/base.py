"""The printer-poller contract and what every poller shares: record identity, HTTP calls
with typed faults, secrets.

A polled job becomes a HarvestRecord whose ``source`` names the poller, the printer and the
job's own id (``poller://<printer>/<job id>``, never a job or file name); its ``sha256`` is
the hash of that identity, so the store's (sha256, index) key makes a job that is seen twice
one record.
"""

from __future__ import annotations

import email.utils
import hashlib
import importlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from printharvest.exceptions import ConfigError, PollerError
from printharvest.models import HarvestRecord, Source

if TYPE_CHECKING:
    import httpx

MAX_BODY = 32 << 20
DEFAULT_TIMEOUT = 10.0



@dataclass
class PollBatch:
    """What one poll returned: new records and the cursor to resume from next time."""

    records: list[HarvestRecord] = field(default_factory=list)
    cursor: str | None = None


class PrinterPoller:
    """Base class for live connectors that pull finished jobs from a printer or its API.

    The service stores ``PollBatch.cursor`` after the batch's records are stored, and passes
    it back as ``since`` so that a restart neither loses nor repeats jobs. ``poll`` runs in a
    worker thread with the printer's request timeout (six of them for a whole poll); it
    raises :class:`~printharvest.exceptions.PollerError` (one line naming the printer, never
    a job name or a secret) when the printer cannot be polled.

    ``self.settings`` is the printer's entry of ``rules/printers.yaml`` as a plain dict, every
    key present: ``id`` (the poller type), ``name`` (the lab's unique printer name), ``url``,
    ``host``, ``port``, ``model``, ``serial`` (None when not given), ``interval_seconds``,
    ``timeout_seconds`` (the printer's own, else ``pollers.timeout_seconds`` of
    printharvest.yaml), ``enabled``, ``secrets`` and ``options`` (a dict of the poller's own
    settings). ``secrets`` holds **references** (``env:VARIABLE``, ``keyring:service/name``),
    never resolved values: call :func:`secret` (``secret(self, "api_key")``) inside ``poll``,
    so that a secret is read only when needed and never stored on the object.
    """

    id: ClassVar[str] = ""
    label: ClassVar[str] = ""
    version: ClassVar[str] = "0"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)

    def poll(self, since: str | None) -> PollBatch:
        """Return jobs finished after ``since`` and the new cursor."""
        raise NotImplementedError


def polled_record(
    poller: PrinterPoller, job_uid: str, payload: Any, fields: Mapping[str, Any]
) -> HarvestRecord:
    """A print record for one polled job, its source identified by printer and job id."""
    name = str(poller.settings["name"])
    identity = f"{poller.id}\0{name}\0{job_uid}"
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    source = Source(path=f"poller://{name}/{job_uid}",
                    sha256=hashlib.sha256(identity.encode()).hexdigest(), size=len(body),
                    connector=poller.id, connector_version=poller.version, index=0)
    return HarvestRecord(kind="print", source=source, **fields)


def timeout_of(poller: PrinterPoller) -> float:
    """The per-request timeout (seconds) from the printer's settings."""
    value = poller.settings.get("timeout_seconds")
    return float(value) if value else DEFAULT_TIMEOUT


def base_url(poller: PrinterPoller, default_scheme: str = "http",
             default_port: int | None = None) -> str:
    """The printer's base URL: ``url`` as given, else built from ``host`` and ``port``."""
    url = poller.settings.get("url")
    if url:
        return str(url).rstrip("/")
    host = poller.settings.get("host")
    if not host:
        raise PollerError(f"{poller.settings.get('name')}: needs url or host")
    port = poller.settings.get("port") or default_port
    return f"{default_scheme}://{host}" + (f":{port}" if port else "")


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def request_json(client: httpx.Client, method: str, url: str, what: str,
                 **kwargs: Any) -> Any:
    """One HTTP call that must answer JSON; every fault becomes a one-line PollerError."""
    import httpx  # here, not at module level: loading httpx slows every command's start

    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise PollerError(f"{what}: timed out") from exc
    except httpx.HTTPError as exc:
        raise PollerError(f"{what}: cannot connect ({type(exc).__name__})") from exc
    if response.status_code == 429:
        wait = retry_after(response.headers.get("Retry-After"))
        raise PollerError(f"{what}: rate limited (HTTP 429)", retry_after=wait)
    if response.status_code in (401, 403):
        raise PollerError(f"{what}: refused (HTTP {response.status_code}), check credentials")
    if response.status_code >= 400:
        raise PollerError(f"{what}: HTTP {response.status_code}",
                          retry_after=retry_after(response.headers.get("Retry-After")))
    if len(response.content) > MAX_BODY:
        raise PollerError(f"{what}: answer too large")
    try:
        return response.json()
    except ValueError as exc:
        raise PollerError(f"{what}: answer is not valid JSON") from exc


def resolve_secret(ref: str) -> str:
    """The secret a reference names: ``env:VARIABLE`` or ``keyring:service/name``."""
    kind, _, rest = ref.partition(":")
    if kind == "env":
        value = os.environ.get(rest)
        if not value:
            raise ConfigError(f"secret {ref}: the environment variable {rest} is not set")
        return value
    if kind == "keyring":
        service, _, name = rest.partition("/")
        try:
            keyring: Any = importlib.import_module("keyring")
        except ImportError as exc:
            raise ConfigError(f"secret {ref}: the 'keyring' package is not installed") from exc
        value = keyring.get_password(service, name)
        if not value:
            raise ConfigError(f"secret {ref}: not found in the OS keyring")
        return str(value)
    raise ConfigError(f"secret {ref}: use env:VARIABLE or keyring:service/name")


def secret(poller: PrinterPoller, key: str) -> str | None:
    """The resolved secret ``key`` of the printer's ``secrets``, or None when not set."""
    refs = poller.settings.get("secrets") or {}
    ref = refs.get(key)
    return resolve_secret(str(ref)) if ref else None


def as_dict(value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else a PollerError (malformed answer)."""
    if not isinstance(value, dict):
        raise PollerError(f"{what}: answer is not a JSON object")
    return value
