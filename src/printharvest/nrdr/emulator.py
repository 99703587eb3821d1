"""A local NRDR: ACR Connect sign-in and the transaction API on 127.0.0.1, for tests and demos.

It speaks the protocol the client uses: ``/oauth2/authorize`` (auto-approves a test user and
redirects with a code), ``/oauth2/token`` (authorization code with PKCE S256, refresh with
rotation), ``POST {api}/transactions`` (Bearer; a header plus a list of case records) and ``GET
{api}/transactions/{id}`` (and ``GET {api}/transactions?idempotencyKey=K``, a transaction by
its key). It reads each record with the configured NRDR mapping and checks it
against the dictionary, answering in the registry's transaction states (``Received`` first,
then ``Posted``, ``PartiallySuccessful`` or ``ValidationFail``) with a result per record. The
stable case id is its duplicate guard: a batch it already holds unchanged is the same
transaction, a changed record of a held case marks the older one
``UpdatedWithNewTransaction``. ``POST /_emulator/answer {"states": [...]}`` makes the next
transactions end in the given states (``Failed``, ...).

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
POSTED = "Posted"
REPLACED = "UpdatedWithNewTransaction"
TRANSACTION_STATES = ("Loading", "Received", "ValidationSuccessful", "Posted",
                      "PartiallySuccessful", "ValidationFail", "UpdatedWithNewTransaction",
                      "Failed")
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
    held: dict[str, tuple[str, str]] = field(default_factory=dict)
    by_content: dict[str, str] = field(default_factory=dict)
    progress: tuple[str, ...] = ("Received",)
    forced: list[str] = field(default_factory=list)
    client_secrets: dict[str, str] = field(default_factory=dict)
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
        """How many accepted records each registry case id has (a retry or a duplicate of a
        record the registry already holds is not counted again; a replaced one is not)."""
        counts: dict[str, int] = {}
        for item in self.transactions.values():
            for record in item["records"]:
                if record["status"] == POSTED and not record["duplicate"]:
                    counts[record["caseId"]] = counts.get(record["caseId"], 0) + 1
        return counts

    def receive(self, header: dict[str, Any], records: list[dict[str, Any]],
                key: str) -> str:
        """Store a posted transaction (caller holds the lock); its transaction id.

        The stable case id in each record is the duplicate guard: a batch whose every record
        the registry already holds, unchanged, from one transaction is that transaction again
        (a retry whose answer was lost). A changed record of a held case replaces the older
        one (``UpdatedWithNewTransaction``). The Idempotency-Key header is only an extra.
        """
        if key and key in self.by_key:
            return self.by_key[key]
        hashes = [_record_hash(r) for r in records]
        content = hashlib.sha256("".join(hashes).encode("ascii")).hexdigest()
        if content in self.by_content:  # the very same batch again: its answer was lost
            return self.by_content[content]
        ids = [r.get(self.mapping.case_id_key) for r in records]
        held = [self.held.get(i) if isinstance(i, str) else None for i in ids]
        if all(h is not None and h[0] == digest for h, digest in zip(held, hashes, strict=True)):
            owners = {h[1] for h in held if h is not None}
            if len(owners) == 1:
                owner = owners.pop()
                if len(self.transactions[owner]["records"]) == len(records):
                    return owner
        transaction_id = "T" + secrets.token_hex(8)
        common: list[dict[str, str | None]] = []
        if header.get("registry") != self.mapping.header.get("registry"):
            common.append({"element": None, "message": "wrong registry"})
        results: list[dict[str, Any]] = []
        for record, case_id, digest, before in zip(records, ids, hashes, held, strict=True):
            case_id, fields = from_record(record, self.mapping)
            errors = list(common) + check_case(fields, self.dictionary)
            errors.extend({"element": name, "message": "unknown field"}
                          for name in unknown_keys(record, self.mapping))
            if not case_id:
                errors.insert(0, {"element": None, "message": "no case id"})
            duplicate = before is not None and before[0] == digest
            if not errors and case_id and not duplicate:
                if before is not None:
                    self._replace(case_id, before[1])
                self.held[case_id] = (digest, transaction_id)
            results.append({"caseId": case_id or "", "status": "ValidationFail" if errors
                            else POSTED, "errors": errors, "duplicate": duplicate})
        posted = sum(r["status"] == POSTED for r in results)
        status = (self.forced.pop(0) if self.forced else
                  POSTED if posted == len(results) else
                  "ValidationFail" if posted == 0 else "PartiallySuccessful")
        if status in ("Failed", "ValidationFail") and posted:
            # a forced refusal: the registry keeps none of it
            for result in results:
                if self.held.get(result["caseId"], ("", ""))[1] == transaction_id:
                    del self.held[result["caseId"]]
                result["status"] = status
                result["errors"].append({"element": None, "message": "the transaction could "
                                         "not be loaded; send it again"})
        elif status == REPLACED:  # forced: as if a newer transaction had already arrived
            for result in results:
                result["status"] = REPLACED
        self.transactions[transaction_id] = {
            "transactionId": transaction_id, "key": key, "status": status, "errors": [],
            "records": results, "polled": 0}
        if key:
            self.by_key[key] = transaction_id
        self.by_content[content] = transaction_id
        return transaction_id

    def _replace(self, case_id: str, transaction_id: str) -> None:
        """A newer record of ``case_id`` arrived: the older one is replaced."""
        older = self.transactions[transaction_id]
        for record in older["records"]:
            if record["caseId"] == case_id and record["status"] == POSTED:
                record["status"] = REPLACED
        if all(r["status"] == REPLACED for r in older["records"]):
            older["status"] = REPLACED


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


def _record_hash(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
        elif path == "/_emulator/answer":
            self._force(body)
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
        expected = state.client_secrets.get(form.get("client_id", ""))
        if expected is not None and not secrets.compare_digest(
                expected.encode(), form.get("client_secret", "").encode()):
            # a confidential client: the secret goes with PKCE on every token request
            self._send(401, {"error": "invalid_client"})
            return
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

    def _force(self, body: bytes) -> None:
        """The next transactions end in the given states (any the registry publishes)."""
        try:
            words = json.loads(body or b"{}").get("states")
            assert isinstance(words, list) and all(w in TRANSACTION_STATES for w in words)
        except (ValueError, AttributeError, AssertionError):
            self._send(400, {"error": "invalid_request",
                             "known": list(TRANSACTION_STATES)})
            return
        self.server.state.forced.extend(words)
        self._send(200, {"forced": self.server.state.forced})

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
        shape = state.mapping.transaction
        key = self.headers.get("Idempotency-Key", "")
        try:
            data = json.loads(body)
            header = data["header"]
            records = data[shape.records_key] if shape.records_key in data else [data["case"]]
            assert isinstance(header, dict) and isinstance(records, list) and records
            assert all(isinstance(r, dict) for r in records)
        except (ValueError, KeyError, TypeError, AssertionError):
            if answer:
                self._send(400, {"errors": [{"element": None, "message": "not a transaction"}]})
            return
        with state.lock:
            existing = state.receive(header, records, key)
        if answer:
            self._send(202, {"transactionId": existing, "status": "Received"})

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
        state = self.server.state
        item = state.transactions.get(transaction_id)
        if not answer:
            return
        if item is None:
            self._send(404, {"error": "not_found"})
            return
        if item["polled"] < len(state.progress):
            # the first looks say the transaction is still on its way, like a real queue
            word = state.progress[item["polled"]]
            item["polled"] += 1
            self._send(200, {"transactionId": transaction_id, "status": word})
            return
        self._send(200, {"transactionId": transaction_id, "status": item["status"],
                         "errors": item["errors"],
                         "records": [{"caseId": r["caseId"], "status": r["status"],
                                      "errors": r["errors"]} for r in item["records"]]})


def start(state: EmulatorState, port: int = 0, host: str = "127.0.0.1") -> EmulatorServer:
    """Serve in a background thread; ``server.server_address`` has the real port."""
    server = EmulatorServer((host, port), _Handler)
    server.state = state
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="nrdr-emulator").start()
    return server
