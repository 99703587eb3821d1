"""Passwords, sessions and CSRF tokens for the web page.

Passwords are stored as ``scrypt$N$r$p$salt$hash`` (hashlib.scrypt, base64 salt and hash);
``printharvest users hash NAME`` prints the line for printharvest.yaml. Sessions live in
memory (a restart signs everyone out) behind a random cookie; every session, signed in or
not, carries its own CSRF token that every form posts back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass, field

from printharvest.exceptions import ConfigError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
COOKIE = "printharvest_session"


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R,
                  p: int = SCRYPT_P) -> str:
    """A salted scrypt hash of ``password`` in the config's format."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return "$".join(("scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches a stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def check_user_hashes(users: dict[str, str]) -> None:
    """ConfigError when a configured user's hash is not in the scrypt format."""
    for name, stored in users.items():
        parts = stored.split("$")
        if len(parts) != 6 or parts[0] != "scrypt" or not all(x.isdigit() for x in parts[1:4]):
            raise ConfigError(f"web.users.{name}: not a password hash; make one with "
                              f"'printharvest users hash {name}'")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.1, ::1, localhost and the rest of the loopback range."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Session:
    """One browser's session."""

    token: str
    csrf: str
    user: str | None = None
    expires: float = 0.0


@dataclass
class Sessions:
    """In-memory sessions with a lifetime."""

    lifetime_s: float
    by_token: dict[str, Session] = field(default_factory=dict)

    def get(self, token: str | None) -> Session | None:
        """The live session for a cookie value, or None."""
        if not token:
            return None
        session = self.by_token.get(token)
        if session is None or session.expires < time.monotonic():
            self.by_token.pop(token, None)
            return None
        session.expires = time.monotonic() + self.lifetime_s
        return session

    def new(self, user: str | None = None) -> Session:
        """A fresh session (also used on sign-in, so a session id is never reused)."""
        self._sweep()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user,
                          time.monotonic() + self.lifetime_s)
        self.by_token[session.token] = session
        return session

    def drop(self, token: str) -> None:
        """End a session (sign-out)."""
        self.by_token.pop(token, None)

    def _sweep(self) -> None:
        now = time.monotonic()
        for token in [t for t, s in self.by_token.items() if s.expires < now]:
            del self.by_token[token]


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    """True when the form's CSRF token is the session's."""
    return (session is not None and submitted is not None
            and hmac.compare_digest(session.csrf.encode(), submitted.encode()))
