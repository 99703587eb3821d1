"""A recorded HTTP exchange, replayed by a real HTTP server on 127.0.0.1.

A poller is tested against what its printer really answered, without the printer. The
exchange is a JSON file::

    {
      "settings": {"model": "MK4", "options": {"per_page": 50},
                   "secrets": {"api_key": "env:LAB_QUEUE_KEY"}},
      "env": {"LAB_QUEUE_KEY": "recorded-not-secret"},
      "exchanges": [
        {"request": {"method": "GET", "path": "/api/jobs"},
         "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                      "json": {"jobs": []}}}
      ]
    }

``settings`` are merged into the printer's settings (``url`` points at the replay server,
``name`` defaults to ``recorded``); ``env`` sets environment variables for secret references
while the poll runs. Each request is answered by the first unused exchange with the same
method and path (the query string is not compared; a ``query`` object, when given, must be
contained in the request's). When every matching exchange was used the last one answers
again; a request nothing matches gets 404. A response has ``json`` or ``body`` (text).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from printharvest.exceptions import ConfigError


@dataclass
class Exchange:
    """A recorded exchange file, loaded."""

    settings: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    """``METHOD /path?query`` of each request the server answered, in order."""

    @classmethod
    def load(cls, path: Path) -> Exchange:
        """Read an exchange file; a ConfigError names the file and what is wrong."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a readable JSON exchange file "
                              f"({type(exc).__name__})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("exchanges"), list):
            raise ConfigError(f"{path}: needs an 'exchanges' list")
        for i, item in enumerate(data["exchanges"]):
            if not (isinstance(item, dict) and isinstance(item.get("request"), dict)
                    and isinstance(item.get("response"), dict)):
                raise ConfigError(f"{path}: exchanges[{i}] needs 'request' and 'response'")
        return cls(dict(data.get("settings") or {}), {str(k): str(v) for k, v in
                                                       (data.get("env") or {}).items()},
                   list(data["exchanges"]))

    def answer(self, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one request."""
        self.seen.append(f"{method} {target}")
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        matching = [x for x in self.exchanges if _matches(x["request"], method, parts.path,
                                                          query)]
        if not matching:
            return 404, {"Content-Type": "application/json"}, b'{"error": "not recorded"}'
        unused = [x for x in matching if not x.get("_used")]
        chosen = unused[0] if unused else matching[-1]
        chosen["_used"] = True
        response = chosen["response"]
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        if "json" in response:
            body = json.dumps(response["json"]).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = str(response.get("body", "")).encode("utf-8")
        return int(response.get("status", 200)), headers, body


def _matches(request: dict[str, Any], method: str, path: str, query: dict[str, str]) -> bool:
    if str(request.get("method", "GET")).upper() != method:
        return False
    if str(request.get("path", "/")).rstrip("/") != path.rstrip("/"):
        return False
    wanted = request.get("query") or {}
    return all(query.get(str(k)) == str(v) for k, v in wanted.items())


@contextmanager
def replay_server(exchange: Exchange) -> Iterator[str]:
    """Serve ``exchange`` on 127.0.0.1 (a free port); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = exchange.answer(self.command, self.path)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _reply

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is the records, not an access log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="replay")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
