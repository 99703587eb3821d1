"""The ``nrdr:`` section of printharvest.yaml: environments, retries, upload file size."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from printharvest.exceptions import ConfigError

LOOPBACK_NAMES = frozenset({"localhost"})


class NrdrEnvironment(BaseModel):
    """One registry environment (test or production): endpoints and client registration."""

    model_config = ConfigDict(extra="forbid")

    authorize_url: str
    token_url: str
    api_base: str
    client_id: str
    scopes: list[str] = Field(default_factory=lambda: ["openid", "offline_access"])
    redirect_uri: str = "http://127.0.0.1:8779/callback"
    client_secret_env: str | None = None
    partner_id: str | None = None
    facility_id: str | None = None


def _emulator(port: int) -> NrdrEnvironment:
    base = f"http://127.0.0.1:{port}"
    return NrdrEnvironment(authorize_url=f"{base}/oauth2/authorize",
                           token_url=f"{base}/oauth2/token", api_base=f"{base}/api/3dp",
                           client_id="printharvest-emulator", partner_id="EMULATOR",
                           facility_id="EMU-0001")


class NrdrConfig(BaseModel):
    """Registry submission settings."""

    model_config = ConfigDict(extra="forbid")

    environment: str = "emulator"
    environments: dict[str, NrdrEnvironment] = Field(
        default_factory=lambda: {"emulator": _emulator(8780)})
    token_store: Literal["auto", "keyring", "file"] = "auto"
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_attempts: int = Field(default=6, ge=1, le=50)
    retry_base_seconds: float = Field(default=1.0, ge=0, le=600)
    retry_max_seconds: float = Field(default=60.0, ge=0, le=3600)
    status_polls: int = Field(default=5, ge=1, le=100)
    login_timeout_seconds: float = Field(default=300.0, gt=0, le=3600)
    upload_max_mb: float = Field(default=40.0, gt=0, le=1000)
    batch_size: int = Field(default=10, ge=1, le=500)
    facility_id: str | None = None

    def upload_facility_id(self) -> str | None:
        """The facility id written on upload rows: ``facility_id`` here, else the current
        environment's."""
        if self.facility_id:
            return self.facility_id
        env = self.environments.get(self.environment)
        return env.facility_id if env is not None else None

    def current(self, name: str | None = None) -> tuple[str, NrdrEnvironment]:
        """The named (default: configured) environment; ConfigError if there is none."""
        chosen = name or self.environment
        if chosen not in self.environments:
            known = ", ".join(sorted(self.environments)) or "none"
            raise ConfigError(f"printharvest.yaml: nrdr: no environment '{chosen}' "
                              f"(configured: {known})")
        env = self.environments[chosen]
        for url in (env.authorize_url, env.token_url, env.api_base):
            require_safe_url(url)
        return chosen, env


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_safe_url(url: str) -> str:
    """``url`` if it is HTTPS, or plain HTTP to a loopback host; ConfigError otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url
    raise ConfigError(f"refusing {parts.scheme or 'a'} URL to {parts.hostname or '?'}: "
                      "the registry is only reached over HTTPS (plain HTTP only to 127.0.0.1)")


DEFAULT_NRDR_TEXT = """\
# Registry submission (NRDR web API through ACR Connect). The registry issues the URLs,
# scopes and client id per partner; put them in an environment and select it. Only HTTPS is
# used (plain HTTP only to 127.0.0.1, e.g. the local emulator). The client secret, if the
# registry gave you one, comes from the environment variable named by client_secret_env, or
# is kept like the refresh token (`printharvest nrdr secret`), never in this file.
# nrdr:
#   environment: emulator        # which entry below `submit` and `nrdr login` use
#   environments:
#     emulator:                  # printharvest nrdr-emulator --port 8780
#       authorize_url: http://127.0.0.1:8780/oauth2/authorize
#       token_url: http://127.0.0.1:8780/oauth2/token
#       api_base: http://127.0.0.1:8780/api/3dp
#       client_id: printharvest-emulator
#     test:
#       authorize_url: https://<from the NRDR help desk>/authorize
#       token_url: https://<from the NRDR help desk>/token
#       api_base: https://<from the NRDR help desk>
#       client_id: <your partner client id>
#       scopes: [openid, offline_access]
#       redirect_uri: http://127.0.0.1:8779/callback   # or your registered https redirect
#       client_secret_env: PRINTHARVEST_NRDR_SECRET
#       partner_id: <partner id>
#       facility_id: <facility id>
#   token_store: auto            # keyring when available, else a 0600 file in the home
#   max_attempts: 6              # tries per transaction (network errors, 429, 5xx)
#   retry_base_seconds: 1.0      # back-off doubles from here ...
#   retry_max_seconds: 60        # ... up to this (a 429's Retry-After is honoured)
#   upload_max_mb: 40            # batch upload files are split to stay below this
#   batch_size: 10               # ready cases sent together in one transaction
#   facility_id: <facility id>   # written on every upload row (default: the environment's)
"""
