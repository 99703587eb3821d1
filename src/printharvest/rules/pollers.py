"""The ``pollers:`` list of rules/printers.yaml: one entry per printer to poll.

Secrets never sit in the YAML: a secret is a reference, ``env:VARIABLE`` or
``keyring:service/name``, resolved only when the poller runs. Validation refuses an option
whose name says it is a secret (``*secret*``, ``*password*``, ``*token*``, ``api_key``...)
unless its value is such a reference.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SECRET_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|keyring:[^/\s]+/[^/\s]+)$")
_SECRET_NAME = re.compile(r"(secret|password|passwd|token|api_?key|credential)", re.I)
URL_OPTIONAL = {"formlabs_web"}
"""Poller types with a default address (the Formlabs Web API's public URL)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def _check_ref(value: str) -> str:
    if not SECRET_REF.match(value):
        raise ValueError("a secret must be a reference, env:VARIABLE or keyring:service/name,"
                         " never the secret itself")
    return value


class PollerEntry(BaseModel):
    """One printer to poll: which poller type, where it is, and how often."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """The poller type: formlabs_web, stratasys_status, octoprint, moonraker."""
    name: str
    """The lab's name for the printer (unique); used for cursors, case keys and messages."""
    url: str | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    model: str | None = None
    serial: str | None = None
    interval_seconds: float = Field(default=300.0, gt=0, le=86400)
    timeout_seconds: float | None = Field(default=None, gt=0, le=600)
    enabled: bool = True
    secrets: dict[str, str] = Field(default_factory=dict)
    """Secret references by name, e.g. ``client_secret: env:FORMLABS_CLIENT_SECRET``."""
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, space, _ . - (at most 64)")
        return value

    @field_validator("secrets")
    @classmethod
    def _refs_only(cls, value: dict[str, str]) -> dict[str, str]:
        for ref in value.values():
            _check_ref(str(ref))
        return value

    @model_validator(mode="after")
    def _no_secret_options(self) -> PollerEntry:
        for key, value in self.options.items():
            if _SECRET_NAME.search(key) and not (isinstance(value, str)
                                                 and SECRET_REF.match(value)):
                raise ValueError(f"options.{key} looks like a secret: put a reference "
                                 "(env:VARIABLE or keyring:service/name) under secrets")
        if self.url is None and self.host is None and self.id not in URL_OPTIONAL:
            raise ValueError("needs url or host")
        return self
