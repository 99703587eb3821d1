"""Local stand-ins for printer APIs on 127.0.0.1, with faults injected on demand.

``FakeHttp`` serves JSON routes over real HTTP; ``FakeStratasys`` speaks the status
service's TCP protocol. Each has a ``faults`` queue: the next request takes the first fault
(``timeout``, ``500``, ``429``, ``malformed``, ``drop``, ``pass`` = serve normally; a
``@/path`` suffix aims an HTTP fault at one path; Stratasys: ``timeout``, ``drop``,
``garbage``, ``cut``, ``trickle``).
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Handler = Callable[[dict[str, str], dict[str, str], bytes], tuple[int, Any]]
STALL_SECONDS = 1.0


class FakeHttp:
    """A JSON HTTP server with routes ``(METHOD, path) -> handler(query, headers, body)``."""

    def __init__(self, routes: dict[tuple[str, str], Handler]) -> None:
        self.routes = routes
        self.faults: list[str] = []
        self.retry_after = "1"
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append((method, parts.path, query))
                fault = fake.take_fault(parts.path)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "timeout":
                    time.sleep(STALL_SECONDS)
                if fault == "500":
                    return self._send(500, b'{"error": "internal"}')
                if fault == "429":
                    return self._send(429, b"{}", {"Retry-After": fake.retry_after})
                if fault == "malformed":
                    return self._send(200, b'{"results": [{"guid": "x", ')
                route = fake.routes.get((method, parts.path))
                if route is None:
                    return self._send(404, b"{}")
                status, data = route(query, dict(self.headers.items()), body)
                self._send(status, json.dumps(data).encode())

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None
                      ) -> None:
                try:
                    self.send_response(status)
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout test)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take_fault(self, path: str) -> str | None:
        """The first queued fault for ``path`` (``"500@/path"``) or for any path (``"500"``)."""
        for i, fault in enumerate(self.faults):
            kind, _, where = fault.partition("@")
            if not where or where == path:
                del self.faults[i]
                return kind
        return None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


class FakeStratasys:
    """The Stratasys status service: 64-byte NUL-padded ``GetFile`` ``status.sts``."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.faults: list[str] = []
        self.commands: list[tuple[str, str]] = []
        fake = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data = b""
                while len(data) < 128:
                    chunk = self.request.recv(128 - len(data))
                    if not chunk:
                        return
                    data += chunk
                fake.commands.append((data[:64].rstrip(b"\0").decode(),
                                      data[64:].rstrip(b"\0").decode()))
                fault = fake.faults.pop(0) if fake.faults else None
                if fault == "drop":
                    return
                if fault == "timeout":
                    time.sleep(STALL_SECONDS)
                    return
                if fault == "trickle":  # a byte at a time, never finishing in time
                    for _ in range(30):
                        try:
                            self.request.sendall(b"s")
                        except OSError:
                            return
                        time.sleep(0.1)
                    return
                if fault == "garbage":
                    self.request.sendall(b"\x00\xff\x13 not a status report")
                    return
                payload = fake.status.encode()
                if fault == "cut":
                    payload = payload[: len(payload) // 2]
                self.request.sendall(b"Ok".ljust(64, b"\0") + payload)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        """The listening port."""
        return int(self.server.server_address[1])

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
