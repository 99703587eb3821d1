"""printharvest.yaml: the lab's settings, validated by pydantic.

Every path is relative to the home unless absolute. Unknown keys are errors (a typo should
not silently fall back to a default). See ``DEFAULT_CONFIG_TEXT`` for the commented file that
``printharvest init`` writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from printharvest.exceptions import ConfigError
from printharvest.nrdr.config import DEFAULT_NRDR_TEXT, NrdrConfig
from printharvest.privacy.files import private_dir
from printharvest.rules.yamlfile import validate_yaml

CONFIG_NAME = "printharvest.yaml"
HOME_ENV = "PRINTHARVEST_HOME"


class WebConfig(BaseModel):
    """The data manager's web page (``printharvest serve``)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    users: dict[str, str] = Field(default_factory=dict)
    show_paths: Literal["loopback", "always", "never"] = "loopback"
    session_minutes: int = Field(default=480, ge=1, le=10080)
    allowed_hosts: list[str] = Field(default_factory=list)
    """Extra Host names the page answers for (besides loopback and the bound host)."""
    store_wait_seconds: float = Field(default=5.0, gt=0, le=120)
    """How long a page waits for a store another program is writing before answering 503."""


class PollerSettings(BaseModel):
    """How printer pollers retry and wait (the printers themselves are in printers.yaml)."""

    model_config = ConfigDict(extra="forbid")

    backoff_initial_seconds: float = Field(default=30.0, ge=0, le=86400)
    backoff_max_seconds: float = Field(default=3600.0, ge=0, le=7 * 86400)
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)


class WatchSettings(BaseModel):
    """The ``watch:`` section: how the inbox service watches, harvests and logs."""

    model_config = ConfigDict(extra="forbid")

    observer: Literal["native", "polling"] = "native"
    poll_interval: float = Field(default=2.0, gt=0, le=600)
    workers: int = Field(default=2, ge=1, le=16)
    worker_memory_mb: int = Field(default=3072, ge=0)
    max_attempts: int = Field(default=3, ge=1, le=100)
    rescan_seconds: float = Field(default=60.0, gt=0, le=86400)
    log_max_bytes: int = Field(default=5_000_000, ge=10_000)
    log_backups: int = Field(default=5, ge=0, le=100)
    incomplete_wait_seconds: float = Field(default=60.0, ge=0, le=86400)


class LedgerSettings(BaseModel):
    """The lab's ledger: the currency of its prices and what an hour of people's time costs."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="USD", min_length=1, max_length=8)
    labour_rates: dict[Literal["clinician", "nonclinician"], float] = Field(default_factory=dict)
    """Hourly rates for the effort kinds, by who did the work; a kind without a rate is a
    missing input of a case's cost, never zero."""

    @field_validator("labour_rates")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        if any(rate < 0 for rate in value.values()):
            raise ValueError("a labour rate cannot be negative")
        return value


class Config(BaseModel):
    """The validated contents of printharvest.yaml."""

    model_config = ConfigDict(extra="forbid")

    inbox: Path = Path("inbox")
    extra_inboxes: list[Path] = Field(default_factory=list)
    archive_mode: Literal["move", "keep"] = "move"
    settle_seconds: float = Field(default=2.0, ge=0, le=3600)
    harvest_timeout_seconds: float = Field(default=120.0, gt=0, le=86400)
    connectors_dir: Path = Path("connectors")
    rules_dir: Path = Path("rules")
    store: Path = Path("printharvest.db")
    entry_point_plugins: bool = True
    disabled_connectors: list[str] = Field(default_factory=list)
    connector_load_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    web: WebConfig = Field(default_factory=WebConfig)
    pollers: PollerSettings = Field(default_factory=PollerSettings)
    nrdr: NrdrConfig = Field(default_factory=NrdrConfig)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)


DEFAULT_CONFIG_TEXT = """\
# printharvest configuration. Paths are relative to this folder unless absolute.
# Every key is optional; delete a line to go back to its default.

# The watched folder technicians drop jobs into (one folder per case, or loose files).
inbox: inbox
# More watched folders, e.g. a network share: [/mnt/lab-share/3dp-jobs]
extra_inboxes: []
# After harvest, "move" originals into archive/YYYY/MM/ or "keep" them where they are.
archive_mode: move
# Seconds a file's size and mtime must stay unchanged before it is taken (also after it was
# closed: network copies and some tools close and reopen a file several times).
settle_seconds: 2.0
# Longest time one file may take to harvest before it is given up (seconds).
harvest_timeout_seconds: 120
# Drop-in folder for the lab's own connectors (one .py file each).
connectors_dir: connectors
# The lab's editable rules (case keys, printers, materials, anatomy, registry dictionary).
rules_dir: rules
# The SQLite store.
store: printharvest.db
# Load connectors installed as Python packages (entry point group "printharvest").
entry_point_plugins: true
# Connectors or pollers switched off by id (still listed by `connectors list`, as off).
disabled_connectors: []
# Longest time importing one drop-in or entry-point module may take (seconds). Third-party
# connectors run in a separate process under harvest_timeout_seconds and worker_memory_mb.
connector_load_timeout_seconds: 30
# The inbox service (printharvest watch).
watch:
  # "native" uses the OS's file events; "polling" re-lists the folders every poll_interval
  # seconds (use it for SMB/NFS network shares, where native events are unreliable).
  observer: native
  poll_interval: 2.0
  # Worker processes that harvest files (one file or job folder at a time each).
  workers: 2
  # Address-space limit per worker in MB (0: no limit), so a hostile file cannot eat the host.
  worker_memory_mb: 3072
  # A file whose harvest crashed the service this many times goes to quarantine.
  max_attempts: 3
  # Full re-listing of the inboxes, in case an event was missed (seconds).
  rescan_seconds: 60
  # logs/printharvest.log rotates at this size, keeping this many old files.
  log_max_bytes: 5000000
  log_backups: 5
  # A settled file whose format has an end marker (slicer end-of-file block, zip central
  # directory, STL triangle count) that is still missing is waited for this many seconds
  # more, then harvested with a warning.
  incomplete_wait_seconds: 60

# The data manager's web page (printharvest serve). On any address other than 127.0.0.1 / ::1
# it asks for a login; add users with the line that `printharvest users hash NAME` prints.
# show_paths: where provenance shows local file paths: loopback (only when bound to
# 127.0.0.1), always, or never.
# web:
#   host: 127.0.0.1
#   port: 8765
#   show_paths: loopback
#   session_minutes: 480
#   users:
#     alice: "scrypt$16384$8$1$...$..."

# Printer pollers (the printers to poll are listed under pollers: in rules/printers.yaml).
# pollers:
#   backoff_initial_seconds: 30   # first wait after a failed poll; doubles each failure
#   backoff_max_seconds: 3600     # longest wait between retries
#   timeout_seconds: 10           # per request, unless a printer sets its own

# The lab's ledger (cost per print and per case). Material prices are in rules/materials.yaml
# (price_per_kg, price_per_l), printer hourly rates in the printer library of
# rules/printers.yaml (hourly_rate). A missing price or rate is reported, never taken as 0.
# ledger:
#   currency: USD
#   labour_rates: {clinician: 150, nonclinician: 55}   # per hour of effort
""" + DEFAULT_NRDR_TEXT


def default_home() -> Path:
    """The home when neither --home nor PRINTHARVEST_HOME is given."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("printharvest", appauthor=False))


@dataclass(frozen=True)
class Home:
    """The lab's printharvest folder: configuration, store, inbox, archive, exports."""

    root: Path
    config: Config

    @classmethod
    def open(cls, root: Path | None = None) -> Home:
        """Load the home at ``root`` (defaults applied when there is no printharvest.yaml)."""
        root = (root or default_home()).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise ConfigError(f"{root}: the home must be a folder")
        path = root / CONFIG_NAME
        config = validate_yaml(Config, path) if path.is_file() else Config()
        return cls(root, config)

    def _path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.root / value

    @property
    def config_path(self) -> Path:
        """printharvest.yaml."""
        return self.root / CONFIG_NAME

    @property
    def store_path(self) -> Path:
        """The SQLite file."""
        return self._path(self.config.store)

    @property
    def inbox(self) -> Path:
        """The main watched folder."""
        return self._path(self.config.inbox)

    @property
    def inboxes(self) -> list[Path]:
        """Every watched folder."""
        return [self.inbox, *(self._path(p) for p in self.config.extra_inboxes)]

    @property
    def connectors_dir(self) -> Path:
        """The drop-in connectors folder."""
        return self._path(self.config.connectors_dir)

    @property
    def rules_dir(self) -> Path:
        """The lab's rules folder (files missing here fall back to the shipped defaults)."""
        return self._path(self.config.rules_dir)

    @property
    def archive(self) -> Path:
        """Where harvested originals are moved."""
        return self.root / "archive"

    @property
    def quarantine(self) -> Path:
        """Where files that could not be understood go, with a reason beside them."""
        return self.root / "quarantine"

    @property
    def exports(self) -> Path:
        """Registry upload files and JSON exports."""
        return self.root / "exports"

    @property
    def logs(self) -> Path:
        """Log files."""
        return self.root / "logs"

    def ensure(self) -> None:
        """Create the home's folders if missing."""
        private_dir(self.root)
        for folder in (self.inbox, self.archive, self.quarantine, self.exports,
                       self.logs, self.connectors_dir):
            folder.mkdir(parents=True, exist_ok=True)
