"""Server-side guards of the web page: Host allow-list, capped bodies, login throttle.

- **Host allow-list** (DNS rebinding): a page on another site can point its own DNS name at
  127.0.0.1 and then read the loopback page as "same origin". The browser still sends that
  name in ``Host``, so only the names the server was bound for are served; others get 421.
- **Capped bodies**: the body is read in chunks and refused with 413 as soon as it passes the
  cap, so a huge post costs neither memory nor a traceback.
- **Login throttle**: failed sign-ins are counted per user name and per client address; past
  the allowance the next attempt waits (429) for a window that doubles with every refusal.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from printharvest.cases.model import Case
from printharvest.exceptions import PrintharvestError
from printharvest.web.auth import is_loopback

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


class RequestTooLargeError(PrintharvestError):
    """A request body over the page's cap (answered 413)."""


def host_name(header: str) -> str:
    """The name part of a ``Host`` header, lower-cased, without the port."""
    value = header.strip().lower()
    if value.startswith("["):  # [::1]:8765
        end = value.find("]")
        return value[: end + 1] if end > 0 else value
    name, _, _port = value.partition(":") if value.count(":") == 1 else (value, "", "")
    return name.rstrip(".")


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def allowed_hosts(bound: str, configured: Iterable[str]) -> frozenset[str]:
    """The Host names served: loopback names, the bound host and the configured ones.

    Bound to every address (0.0.0.0, ::) the machine's own names are added too: people reach
    it by those.
    """
    names = {*LOOPBACK_NAMES, *(host_name(h) for h in configured if h.strip())}
    bound = bound.strip().lower()
    if bound in ("0.0.0.0", "::", "[::]", ""):
        for own in (socket.gethostname(), socket.getfqdn()):
            if own:
                names.add(own.lower().rstrip("."))
    elif ":" in bound and not bound.startswith("["):
        names.add(f"[{bound}]")  # an IPv6 address arrives bracketed in Host
    else:
        names.add(host_name(bound))
    return frozenset(names)


class HostGuard:
    """ASGI middleware: 421 for a ``Host`` header the server was not bound for.

    An IP literal cannot be re-bound by DNS, so it is accepted when the page is served off
    loopback (it already requires a login there); on loopback only the loopback names and
    the configured ones are served.
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[str], off_loopback: bool) -> None:
        self.app = app
        self.allowed = allowed
        self.off_loopback = off_loopback

    def ok(self, header: str | None) -> bool:
        """True when a request with this ``Host`` header may be served."""
        if not header:
            return False
        name = host_name(header)
        if name in self.allowed:
            return True
        if _is_ip_literal(name):
            return self.off_loopback or is_loopback(name)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = None
        for key, value in scope.get("headers", []):
            if key == b"host":
                header = value.decode("latin-1")
                break
        if self.ok(header):
            await self.app(scope, receive, send)
            return
        body = b"This server does not answer for that host name (421).\n"
        await send({"type": "http.response.start", "status": 421,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})


async def read_capped(request: Request, cap: int) -> bytes:
    """The request body, refused with RequestTooLargeError once it passes ``cap`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise RequestTooLargeError(f"the request is larger than {cap} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > cap:
            raise RequestTooLargeError(f"the request is larger than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class _Strikes:
    failures: int = 0
    first_at: float = 0.0
    locked_until: float = 0.0
    lockouts: int = 0


@dataclass
class LoginThrottle:
    """Failed sign-ins per key (``user:NAME``, ``addr:IP``) within a window.

    After ``allowance`` failures inside ``window_s`` the key is locked for ``lock_s``,
    doubling with each lockout up to ``max_lock_s``. A success clears the user's key.
    """

    allowance: int = 5
    window_s: float = 900.0
    lock_s: float = 30.0
    max_lock_s: float = 900.0
    clock: object = time.monotonic
    keys: dict[str, _Strikes] = field(default_factory=dict)

    def _now(self) -> float:
        clock = self.clock
        assert callable(clock)
        return float(clock())

    def wait_s(self, *keys: str) -> float:
        """Seconds before any of ``keys`` may try again (0 when free)."""
        now = self._now()
        waits = [s.locked_until - now for k in keys if (s := self.keys.get(k)) is not None]
        return max([0.0, *waits])

    def failed(self, *keys: str) -> None:
        """Count one failed attempt against every key."""
        now = self._now()
        if len(self.keys) > 10_000:  # forget stale keys so a spray cannot grow memory
            for key in [k for k, s in self.keys.items()
                        if s.locked_until < now and now - s.first_at > self.window_s]:
                del self.keys[key]
        for key in keys:
            strikes = self.keys.setdefault(key, _Strikes(first_at=now))
            if now - strikes.first_at > self.window_s:
                strikes.failures, strikes.first_at = 0, now
            strikes.failures += 1
            if strikes.failures >= self.allowance:
                lock = min(self.max_lock_s, self.lock_s * 2 ** strikes.lockouts)
                strikes.locked_until = now + lock
                strikes.lockouts += 1
                strikes.failures = 0

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of ``keys``."""
        for key in keys:
            self.keys.pop(key, None)


VERSION_FIELD = "_v"


def case_version(case: Case) -> str:
    """A short digest of what the case form shows: every field's value and origin, the
    status and the open conflicts. A form posts back the version it was built from, so a
    save from a stale page (another browser saved since) is refused instead of silently
    reverting the other edit."""
    state = {
        "status": case.status,
        "fields": {name: [fv.provenance.origin, fv.value] for name, fv in case.fields.items()},
        "conflicts": sorted(c.field for c in case.conflicts),
    }
    text = json.dumps(state, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
