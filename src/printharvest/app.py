"""App: one home and everything loaded from it (plugins, rules, dictionary, store).

Loading is lazy so that a command pays only for what it uses.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from printharvest.cases.service import CaseService
from printharvest.config import Home
from printharvest.dictionary.elements import Dictionary
from printharvest.harvest.bounded import BoundedHarvester
from printharvest.harvest.harvester import Harvester
from printharvest.harvest.plugins import PluginHost
from printharvest.harvest.sandbox import Limits
from printharvest.privacy import phi
from printharvest.privacy.files import private_dir
from printharvest.rules.anatomy import AnatomyRules
from printharvest.rules.lab import Rules
from printharvest.store import Store


class App:
    """The lab's printharvest, opened on one home."""

    def __init__(self, home: Home, *, read_only: bool = False) -> None:
        self.home = home
        self.read_only = read_only
        """True for commands that only look (inspect): nothing is written into the home."""
        self._store: Store | None = None

    @classmethod
    def open(cls, root: Path | None = None) -> App:
        """Open the home at ``root`` (or the default home)."""
        return cls(Home.open(root))

    @cached_property
    def host(self) -> PluginHost:
        """Loaded connectors (built-in, entry points, drop-in folder)."""
        config = self.home.config
        # Third-party connectors load and run in a bounded process, in every command.
        limits = Limits(timeout=config.harvest_timeout_seconds,
                        load_timeout=config.connector_load_timeout_seconds,
                        memory_mb=config.watch.worker_memory_mb)
        host = PluginHost.load(self.home.connectors_dir,
                               entry_points=config.entry_point_plugins,
                               disabled=config.disabled_connectors, limits=limits)
        if self.read_only:
            # Nothing is stored, so the hashes need not match later ones: a salt for this run
            # alone, and no salt file (nor home) created by a command that only looks.
            salt = secrets.token_bytes(phi.SALT_BYTES)
            host.bind(self.home.rules_dir, lambda: salt)
        else:
            host.bind(self.home.rules_dir, lambda: phi.home_salt(self.home.root))
        return host

    @cached_property
    def rules(self) -> Rules:
        """The lab's rules."""
        return Rules.load(self.home.rules_dir)

    @cached_property
    def anatomy(self) -> AnatomyRules:
        """The anatomy keyword rules."""
        return AnatomyRules.load(self.home.rules_dir)

    @cached_property
    def dictionary(self) -> Dictionary:
        """The registry data dictionary."""
        return Dictionary.load(self.home.rules_dir)

    @cached_property
    def harvester(self) -> Harvester:
        """Harvester over the loaded connectors and rules."""
        return Harvester(self.host, self.rules, self.home.inboxes)

    @cached_property
    def bounded_harvester(self) -> BoundedHarvester:
        """The harvester under the watch workers' limits (``inspect``, ``ingest``)."""
        config = self.home.config
        return BoundedHarvester(self.harvester, config.harvest_timeout_seconds,
                                config.watch.worker_memory_mb)

    @property
    def store(self) -> Store:
        """The store, opened (and migrated) on first use."""
        if self._store is None:
            private_dir(self.home.root)
            self._store = Store.open(self.home.store_path)
        return self._store

    @cached_property
    def cases(self) -> CaseService:
        """Case reading and writing."""
        return CaseService(self.store, self.dictionary, self.rules, self.anatomy)

    def reload(self, home: Home) -> None:
        """Switch to a freshly loaded home (configuration and rules changed on disk): what
        was loaded from the old one is loaded again on next use; the store stays open."""
        self.home = home
        for name in ("host", "rules", "anatomy", "dictionary", "harvester", "bounded_harvester",
                     "cases"):
            self.__dict__.pop(name, None)

    def close(self) -> None:
        """Close the store if it was opened, and stop the third-party connectors' process."""
        if "host" in self.__dict__:
            self.host.close()
        if self._store is not None:
            self._store.close()
            self._store = None
