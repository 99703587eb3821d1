"""ACR Connect sign-in: OpenID Connect / OAuth 2.0 authorization code with PKCE.

``login`` opens the browser on the authorize URL and receives the code on a loopback
listener (``http://127.0.0.1:PORT/path``), or, for a registered HTTPS redirect, from the
address the user pastes back. State and PKCE are checked; the refresh token goes to the
:class:`~printharvest.nrdr.tokens.TokenStore`. :class:`Session` hands out access tokens,
renewing them with the refresh token when needed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from printharvest.exceptions import AuthError, ConfigError, TransmissionError
from printharvest.nrdr.config import NrdrEnvironment, is_loopback, require_safe_url
from printharvest.nrdr.tokens import TokenStore
from printharvest.privacy.egress import EgressGuard, release, release_headers

LOG_IN_AGAIN = "log in again with `printharvest nrdr login`"
EXPIRY_MARGIN = 30.0
"""Seconds before expiry at which an access token is renewed."""


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(env: NrdrEnvironment, state: str, challenge: str, nonce: str) -> str:
    """The authorize URL the browser opens."""
    query = urlencode({
        "response_type": "code", "client_id": env.client_id, "redirect_uri": env.redirect_uri,
        "scope": " ".join(env.scopes), "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    separator = "&" if "?" in env.authorize_url else "?"
    return f"{require_safe_url(env.authorize_url)}{separator}{query}"


@dataclass
class Callback:
    """What came back on the redirect."""

    query: dict[str, str]


class _Listener(HTTPServer):
    callback: Callback | None
    path_expected: str


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _Listener

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.server.path_expected:
            self.send_error(404)
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.callback = Callback(query)
        text = ("Signed in. You can close this window and return to printharvest."
                if "code" in query else "Sign-in did not complete; see the terminal.")
        body = f"<!DOCTYPE html><title>printharvest</title><p>{text}</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the query holds the authorization code."""


def _wait_loopback(redirect: str, open_url: Callable[[], None], timeout: float) -> Callback:
    parts = urlsplit(redirect)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    try:
        server = _Listener((host, port), _CallbackHandler)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} for the sign-in redirect "
                          f"({exc.strerror}); change nrdr redirect_uri") from exc
    server.callback = None
    server.path_expected = parts.path or "/"
    server.timeout = 0.2
    try:
        threading.Thread(target=open_url, daemon=True).start()
        deadline = time.monotonic() + timeout
        while server.callback is None:
            if time.monotonic() > deadline:
                raise AuthError("no answer from the sign-in page in time: " + LOG_IN_AGAIN)
            server.handle_request()
        return server.callback
    finally:
        server.server_close()


class TokenClient:
    """Talks to the token endpoint (code exchange, refresh)."""

    def __init__(self, env_name: str, env: NrdrEnvironment, http: httpx.Client,
                 tokens: TokenStore) -> None:
        self.env_name = env_name
        self.env = env
        self.http = http
        self.tokens = tokens

    def request(self, form: dict[str, str]) -> dict[str, Any]:
        """POST to the token endpoint; AuthError on refusal, TransmissionError if unreachable."""
        secret = self.tokens.client_secret(self.env_name, self.env.client_secret_env)
        form = {**form, "client_id": self.env.client_id}
        if secret:
            form["client_secret"] = secret
        body = urlencode(form).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/json"}
        guard = EgressGuard()
        release(body, guard, "token request")
        release_headers(headers, guard, "token request headers")
        try:
            response = self.http.post(require_safe_url(self.env.token_url), content=body,
                                      headers=headers)
        except httpx.HTTPError as exc:
            raise TransmissionError(f"the sign-in service could not be reached "
                                    f"({type(exc).__name__})") from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code in (400, 401) and isinstance(data, dict):
            raise AuthError(f"the registry refused the sign-in "
                            f"({data.get('error', response.status_code)}): {LOG_IN_AGAIN}")
        if response.status_code != 200 or not isinstance(data, dict) \
                or not isinstance(data.get("access_token"), str):
            raise TransmissionError(f"the sign-in service answered {response.status_code}")
        refresh = data.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self.tokens.put(self.env_name, refresh)
        return data


def login(env_name: str, env: NrdrEnvironment, http: httpx.Client, tokens: TokenStore,
          open_browser: Callable[[str], Any], paste: Callable[[str], str] | None = None,
          timeout: float = 300.0) -> dict[str, Any]:
    """Run the authorization code + PKCE flow; keep the refresh token; return the token answer.

    A loopback ``redirect_uri`` is answered by a one-shot listener on 127.0.0.1; any other
    (a registered HTTPS redirect) needs ``paste``, which asks for the address the browser
    was sent to.
    """
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(16)
    url = authorize_url(env, state, challenge, nonce)
    redirect = urlsplit(env.redirect_uri)
    if redirect.scheme == "http" and redirect.hostname and is_loopback(redirect.hostname):
        callback = _wait_loopback(env.redirect_uri, lambda: open_browser(url), timeout)
    else:
        require_safe_url(env.redirect_uri)
        if paste is None:
            raise ConfigError("the redirect is not a loopback address: run `nrdr login` in a "
                              "terminal to paste the address the browser ends on")
        open_browser(url)
        pasted = urlsplit(paste(url).strip())
        callback = Callback({k: v[0] for k, v in parse_qs(pasted.query).items()})
    query = callback.query
    if query.get("state") != state:
        raise AuthError("the sign-in answer does not match this request (state): " + LOG_IN_AGAIN)
    if "error" in query or not query.get("code"):
        raise AuthError(f"the sign-in was refused ({query.get('error', 'no code')})")
    return TokenClient(env_name, env, http, tokens).request({
        "grant_type": "authorization_code", "code": query["code"],
        "redirect_uri": env.redirect_uri, "code_verifier": verifier})


class Session:
    """Access tokens for API calls, renewed from the stored refresh token when needed."""

    def __init__(self, token_client: TokenClient, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.token_client = token_client
        self.clock = clock
        self._access: str | None = None
        self._expires = 0.0

    def bearer(self) -> str:
        """A valid access token; AuthError ("log in again") when the sign-in is gone."""
        if self._access is None or self.clock() >= self._expires - EXPIRY_MARGIN:
            self.renew()
        assert self._access is not None
        return self._access

    def invalidate(self) -> None:
        """Forget the access token (the API said it is no longer valid)."""
        self._access = None

    def renew(self) -> None:
        """Exchange the refresh token for a new access token."""
        client = self.token_client
        refresh = client.tokens.get(client.env_name)
        if not refresh:
            raise AuthError(f"not signed in to the registry ({client.env_name}): {LOG_IN_AGAIN}")
        data = client.request({"grant_type": "refresh_token", "refresh_token": refresh})
        self._access = str(data["access_token"])
        try:
            lifetime = float(data.get("expires_in", 300))
        except (TypeError, ValueError):
            lifetime = 300.0
        self._expires = self.clock() + lifetime
