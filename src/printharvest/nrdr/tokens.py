"""Where the refresh token (and optionally the client secret) are kept.

The OS keyring when the optional ``keyring`` package has a working backend, else a file in
the home readable by its owner only (0600). Tokens are never logged or printed.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from printharvest.exceptions import AuthError, ConfigError

KEYRING_SERVICE = "printharvest-nrdr"


def _keyring() -> Any | None:
    """The keyring module when it is installed and has a real backend."""
    try:
        module = importlib.import_module("keyring")
    except ImportError:
        return None
    try:
        backend = module.get_keyring()
    except Exception:
        return None
    name = type(backend).__module__ + "." + type(backend).__name__
    if "fail" in name.lower() or "null" in name.lower():
        return None
    return module


class TokenStore:
    """Refresh tokens per environment: keyring, or 0600 files under ``folder``."""

    def __init__(self, folder: Path, mode: Literal["auto", "keyring", "file"] = "auto") -> None:
        self.folder = folder
        self.keyring = None if mode == "file" else _keyring()
        if mode == "keyring" and self.keyring is None:
            raise ConfigError("nrdr: token_store is keyring but no keyring backend is available "
                              "(install the 'keyring' package or use token_store: file)")

    @property
    def where(self) -> str:
        """Where tokens are kept, for messages."""
        return "the OS keyring" if self.keyring is not None else f"{self.folder} (0600 files)"

    def _file(self, environment: str) -> Path:
        return self.folder / f"{environment}.token.json"

    def get(self, environment: str) -> str | None:
        """The stored refresh token of ``environment``, or None."""
        if self.keyring is not None:
            value = self.keyring.get_password(KEYRING_SERVICE, f"{environment}:refresh_token")
            return value if isinstance(value, str) else None
        return _read_private(self._file(environment), "refresh_token",
                             f"the stored sign-in of '{environment}' is unreadable: "
                             "log in again with `printharvest nrdr login`")

    def put(self, environment: str, refresh_token: str) -> None:
        """Keep a (new) refresh token."""
        if self.keyring is not None:
            self.keyring.set_password(KEYRING_SERVICE, f"{environment}:refresh_token",
                                      refresh_token)
            return
        self._write_private(self._file(environment), {"refresh_token": refresh_token})

    def delete(self, environment: str) -> None:
        """Forget the sign-in of ``environment``."""
        if self.keyring is not None:
            # keyring raises its own PasswordDeleteError when there is nothing to delete
            with contextlib.suppress(Exception):
                self.keyring.delete_password(KEYRING_SERVICE, f"{environment}:refresh_token")
            return
        self._file(environment).unlink(missing_ok=True)

    def client_secret(self, environment: str, env_var: str | None) -> str | None:
        """The client secret: from the named environment variable, else where the refresh
        token is kept (keyring, or the 0600 file)."""
        if env_var and os.environ.get(env_var):
            return os.environ[env_var]
        if self.keyring is not None:
            value = self.keyring.get_password(KEYRING_SERVICE, f"{environment}:client_secret")
            return value if isinstance(value, str) else None
        return _read_private(self._secret_file(environment), "client_secret",
                             f"the stored client secret of '{environment}' is unreadable: "
                             "store it again with `printharvest nrdr secret`")

    def _secret_file(self, environment: str) -> Path:
        return self.folder / f"{environment}.secret.json"

    def put_client_secret(self, environment: str, secret: str) -> None:
        """Keep the client secret the registry issued, like the refresh token."""
        if self.keyring is not None:
            self.keyring.set_password(KEYRING_SERVICE, f"{environment}:client_secret", secret)
            return
        self._write_private(self._secret_file(environment), {"client_secret": secret})

    def delete_client_secret(self, environment: str) -> None:
        """Forget the stored client secret of ``environment``."""
        if self.keyring is not None:
            with contextlib.suppress(Exception):
                self.keyring.delete_password(KEYRING_SERVICE, f"{environment}:client_secret")
            return
        self._secret_file(environment).unlink(missing_ok=True)

    def _write_private(self, path: Path, data: dict[str, str]) -> None:
        """Write a 0600 file atomically in a 0700 folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        temporary = path.with_name(path.name + ".part")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)


def _read_private(path: Path, key: str, unreadable: str) -> str | None:
    """The string under ``key`` in a file :meth:`TokenStore._write_private` wrote; None when
    the file or the key is absent; AuthError(``unreadable``) when the file cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AuthError(unreadable) from exc
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
