"""A local NRDR: ACR Connect sign-in and the transaction API on 127.0.0.1, for tests and demos.

It speaks the protocol the client uses: ``/oauth2/authorize`` (auto-approves a test user and
redirects with a code), ``/oauth2/token`` (authorization code with PKCE S256, refresh with
rotation), ``POST {api}/transactions`` (Bearer, Idempotency-Key) and ``GET
{api}/transactions/{id}`` (and ``GET {api}/transactions?idempotencyKey=K``, a transaction by
its key). It reads each case with the configured NRDR mapping and checks it
against the dictionary, answering accepted or rejected with field errors.

Faults on request, for the API endpoints: ``Faults(rate, kinds)`` with kinds ``500``, ``429``,
``drop`` (connection closed before or after the transaction was stored), ``latency`` and
``expired`` (a 401 for a valid token); set them at start, or at run time with ``POST
/_emulator/faults``. ``POST /_emulator/revoke`` revokes every refresh token. Every request it
received is kept (``received``) so tests can scan what left.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from printharvest.dictionary.elements import Dictionary
from printharvest.registry.mapping import NrdrMapping, from_record, unknown_keys

API_BASE_PATH = "/api/3dp"
FAULT_KINDS = ("500", "429", "drop", "latency", "expired")


@dataclass
class Faults:
    """Which faults to inject into API requests, and how often."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    latency_seconds: float = 0.2
    seed: int | None = None


@dataclass
class Received:
    """One request as it arrived: method, path, headers, body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class EmulatorState:
    """Everything the emulator remembers."""

    dictionary: Dictionary
    mapping: NrdrMapping
    faults: Faults = field(default_factory=Faults)
    access_ttl: int = 300
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: dict[str, float] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=random.Random)

    def set_faults(self, faults: Faults) -> None:
        """Replace the fault settings (and reseed)."""
        self.faults = faults
        self.rng = random.Random(faults.seed)

    def fault(self) -> str | None:
        """The fault to inject into this request, if any."""
        with self.lock:
            if self.faults.rate <= 0 or self.rng.random() >= self.faults.rate:
                return None
            kind = self.rng.choice(self.faults.kinds)
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    def accepted_per_case(self) -> dict[str, int]:
        """How many accepted transactions each registry case id has."""
        counts: dict[str, int] = {}
        for item in self.transactions.values():
            if item["status"] == "accepted":
                counts[item["caseId"]] = counts.get(item["caseId"], 0) + 1
        return counts


def check_case(fields: dict[str, Any], dictionary: Dictionary) -> list[dict[str, str | None]]:
    """The registry's field errors for a case's values (empty: acceptable)."""
    elements = {e.id: e for e in dictionary.elements}
    errors: list[dict[str, str | None]] = []
    for name, value in fields.items():
        parts = name.split(".")
        element = elements.get(f"{parts[0]}.{parts[2]}" if len(parts) == 3 else name)
        if element is None:
            errors.append({"element": name, "message": "unknown element"})
            continue
        problem = _problem(element.type, element.values, element.min, element.max, value)
        if problem:
            errors.append({"element": name, "message": problem})
        if element.group:
            number = int(parts[1])
            if number > dictionary.group(element.group).max:
                errors.append({"element": name, "message": "more entries than allowed"})
    errors.extend({"element": name, "message": "required"}
                  for name in dictionary.missing(fields))
    return errors


def _problem(kind: str, allowed: list[str], low: float | None, high: float | None,
             value: Any) -> str | None:
    if kind == "multi_choice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "expected a list of values"
        bad = [v for v in value if allowed and v not in allowed]
        return f"not allowed: {', '.join(bad)}" if bad else None
    if kind == "choice":
        return None if isinstance(value, str) and value in allowed else "not an allowed value"
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "expected a number"
        if kind == "integer" and not isinstance(value, int):
            return "expected a whole number"
        if (low is not None and value < low) or (high is not None and value > high):
            return "out of range"
        return None
    if kind == "duration":
        if isinstance(value, dict) and (value.get("unknown") is True or (
                isinstance(value.get("hours"), int) and isinstance(value.get("minutes"), int)
                and 0 <= value["minutes"] < 60 and value["hours"] >= 0)):
            return None
        return "expected {hours, minutes} or {unknown: true}"
    if kind == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    return None if isinstance(value, str) and len(value) <= 500 else "expected text"


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP server holding the emulator's state."""

    daemon_threads = True
    state: EmulatorState


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and demos read the answers, not the access log."""

    # -- plumbing -------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        self.connection.close()

    def _record(self, body: bytes) -> None:
        state = self.server.state
        with state.lock:
            state.received.append(Received(self.command, self.path, dict(self.headers), body))

    # -- routes ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(b"")
        parts = urlsplit(self.path)
        if parts.path == "/oauth2/authorize":
            self._authorize({k: v[0] for k, v in parse_qs(parts.query).items()})
        elif parts.path == API_BASE_PATH + "/transactions":
            key = parse_qs(parts.query).get("idempotencyKey", [""])[0]
            self._api(lambda answer=True: self._lookup(key, answer))
        elif parts.path.startswith(API_BASE_PATH + "/transactions/"):
            self._api(lambda answer=True: self._status(parts.path.rsplit("/", 1)[1], answer))
        elif parts.path == "/_emulator/transactions":
            self._send(200, list(self.server.state.transactions.values()))
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        body = self._body()
        self._record(body)
        path = urlsplit(self.path).path
        if path == "/oauth2/token":
            self._token({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        elif path == API_BASE_PATH + "/transactions":
            self._api(lambda answer=True: self._submit(body, answer))
        elif path == "/_emulator/faults":
            self._set_faults(body)
        elif path == "/_emulator/revoke":
            self.server.state.refresh_tokens.clear()
            self.server.state.access_tokens.clear()
            self._send(200, {"revoked": True})
        else:
            self._send(404, {"error": "not_found"})

    def _authorize(self, query: dict[str, str]) -> None:
        redirect = query.get("redirect_uri", "")
        if query.get("response_type") != "code" or not redirect \
                or query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            self._send(400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(24)
        self.server.state.codes[code] = {"challenge": query["code_challenge"],
                                         "redirect_uri": redirect,
                                         "client_id": query.get("client_id", "")}
        location = redirect + ("&" if "?" in redirect else "?") + urlencode(
            {"code": code, "state": query.get("state", "")})
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _token(self, form: dict[str, str]) -> None:
        state = self.server.state
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = state.codes.pop(form.get("code", ""), None)
            if issued is None or issued["redirect_uri"] != form.get("redirect_uri") \
                    or issued["client_id"] != form.get("client_id") \
                    or _challenge(form.get("code_verifier", "")) != issued["challenge"]:
                self._send(400, {"error": "invalid_grant"})
                return
        elif grant == "refresh_token":
            token = form.get("refresh_token", "")
            with state.lock:
                if token not in state.refresh_tokens:
                    self._send(400, {"error": "invalid_grant",
                                     "error_description": "refresh token expired or revoked"})
                    return
                state.refresh_tokens.discard(token)  # rotation: each refresh token works once
        else:
            self._send(400, {"error": "unsupported_grant_type"})
            return
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with state.lock:
            state.access_tokens[access] = time.monotonic() + state.access_ttl
            state.refresh_tokens.add(refresh)
        self._send(200, {"access_token": access, "token_type": "Bearer",
                         "expires_in": state.access_ttl, "refresh_token": refresh,
                         "scope": "openid offline_access"})

    def _set_faults(self, body: bytes) -> None:
        try:
            data = json.loads(body or b"{}")
            kinds = tuple(data.get("kinds") or FAULT_KINDS)
            faults = Faults(rate=float(data.get("rate", 0)), kinds=kinds,
                            latency_seconds=float(data.get("latency_seconds", 0.2)),
                            seed=data.get("seed"))
        except (ValueError, TypeError, AttributeError):
            self._send(400, {"error": "invalid_request"})
            return
        self.server.state.set_faults(faults)
        self._send(200, {"rate": faults.rate, "kinds": list(faults.kinds)})

    def _api(self, handle: Callable[..., None]) -> None:
        state = self.server.state
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        expiry = state.access_tokens.get(token)
        if expiry is None or expiry < time.monotonic():
            self._send(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
            return
        fault = state.fault()
        if fault == "500":
            self._send(500, {"error": "server_error"})
        elif fault == "429":
            self._send(429, {"error": "slow_down"}, {"Retry-After": "0"})
        elif fault == "expired":
            self._send(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        elif fault == "drop":
            if state.rng.random() < 0.5:
                handle(answer=False)  # stored, but the answer is lost
            self._drop()
        else:
            if fault == "latency":
                time.sleep(state.faults.latency_seconds)
            handle()

    def _submit(self, body: bytes, answer: bool = True) -> None:
        state = self.server.state
        key = self.headers.get("Idempotency-Key", "")
        try:
            data = json.loads(body)
            header, record = data["header"], data["case"]
            assert isinstance(header, dict) and isinstance(record, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            if answer:
                self._send(400, {"errors": [{"element": None, "message": "not a transaction"}]})
            return
        if not key or header.get("idempotencyKey") != key:
            if answer:
                self._send(400, {"errors": [{"element": None,
                                             "message": "Idempotency-Key missing or mismatched"}]})
            return
        with state.lock:
            existing = state.by_key.get(key)
            if existing is None:
                case_id, fields = from_record(record, state.mapping)
                errors = check_case(fields, state.dictionary)
                errors.extend({"element": key, "message": "unknown field"}
                              for key in unknown_keys(record, state.mapping))
                if header.get("registry") != state.mapping.header.get("registry"):
                    errors.insert(0, {"element": None, "message": "wrong registry"})
                if not case_id:
                    errors.insert(0, {"element": None, "message": "no case id"})
                existing = "T" + secrets.token_hex(8)
                state.by_key[key] = existing
                state.transactions[existing] = {
                    "transactionId": existing, "caseId": case_id or "", "key": key,
                    "status": "rejected" if errors else "accepted", "errors": errors,
                    "polled": False}
        if answer:
            self._send(202, {"transactionId": existing, "status": "received"})

    def _lookup(self, key: str, answer: bool = True) -> None:
        """A transaction by its idempotency key (its id; the status is read as usual)."""
        found = self.server.state.by_key.get(key)
        if not answer:
            return
        if found is None:
            self._send(404, {"error": "not_found"})
            return
        self._send(200, {"transactionId": found, "status": "received"})

    def _status(self, transaction_id: str, answer: bool = True) -> None:
        item = self.server.state.transactions.get(transaction_id)
        if not answer:
            return
        if item is None:
            self._send(404, {"error": "not_found"})
            return
        if not item["polled"]:
            item["polled"] = True  # the first look says "processing", like a real queue
            self._send(200, {"transactionId": transaction_id, "status": "processing"})
            return
        self._send(200, {"transactionId": transaction_id, "status": item["status"],
                         "errors": item["errors"]})


def start(state: EmulatorState, port: int = 0, host: str = "127.0.0.1") -> EmulatorServer:
    """Serve in a background thread; ``server.server_address`` has the real port."""
    server = EmulatorServer((host, port), _Handler)
    server.state = state
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="nrdr-emulator").start()
    return server
