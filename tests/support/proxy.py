"""A real HTTP proxy on 127.0.0.1 in front of another server, that can spoil answers.

``rewrite(method, path, status, headers, body)`` returns the (status, headers, body) to send
back instead; the default passes everything through unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Answer = tuple[int, dict[str, str], bytes]
Rewrite = Callable[[str, str, int, dict[str, str], bytes], Answer]

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def passthrough(method: str, path: str, status: int, headers: dict[str, str],
                body: bytes) -> Answer:
    return status, headers, body


@contextmanager
def proxy(upstream: str, rewrite: Rewrite = passthrough) -> Iterator[str]:
    """Serve a proxy to ``upstream`` on a free loopback port; yield its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP and k.lower() != "host"}
            answer = httpx.request(self.command, upstream + self.path, headers=headers,
                                   content=body or None, timeout=30)
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP}
            status, kept, data = rewrite(self.command, self.path, answer.status_code, kept,
                                         answer.content)
            self.send_response(status)
            for key, value in kept.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
