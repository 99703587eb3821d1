"""The plugin host: where connectors come from and how one is chosen for a file.

Extension points (declared here, and only here):

* a module-level ``CONNECTORS`` list of :class:`~printharvest.connectors.FileConnector`
  subclasses;
* a module-level ``POLLERS`` list of :class:`~printharvest.connectors.PrinterPoller`
  subclasses.

Three routes load them, all through :meth:`PluginHost.register_module`:

1. built-ins: the modules :mod:`printharvest.connectors.builtin` and
   :mod:`printharvest.pollers.builtin`;
2. installed packages: entry points in the group ``printharvest`` (an entry point may name a
   module, a connector class or a list of classes);
3. the drop-in folder: every ``*.py`` file in the configured connectors directory
   (``<home>/connectors/`` by default), files starting with ``_`` skipped.

A connector that fails to import, cannot be constructed or breaks the contract is recorded
as a :class:`PluginFailure` (shown by ``printharvest connectors list``) and skipped; it never
stops the program.

Selection: every connector's ``detect`` is called on the probe, guarded (an exception or a
non-finite score counts as 0, a score is clamped to [0, 1]). The highest score wins; ties
break deterministically by route (drop-in, then entry point, then built-in: the lab's own
connector is the more specific one) and then by connector id.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from printharvest.connectors.base import FileConnector, HarvestContext
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord
from printharvest.pollers.base import PrinterPoller
from printharvest.privacy.phi import ephemeral_salt

ENTRY_POINT_GROUP = "printharvest"
BUILTIN_MODULES = ("printharvest.connectors.builtin", "printharvest.pollers.builtin")
MIN_SCORE = 0.2
"""Below this score a connector does not claim the file."""

ROUTE_RANK = {"drop-in": 0, "entry point": 1, "built-in": 2}
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class LoadedConnector:
    """A file connector instance and where it came from."""

    connector: FileConnector
    route: str
    origin: str

    @property
    def id(self) -> str:
        """The connector's id."""
        return self.connector.id

    @property
    def sort_key(self) -> tuple[int, str]:
        """Tie-break order: route rank, then id."""
        return (ROUTE_RANK[self.route], self.connector.id)


@dataclass(frozen=True)
class LoadedPoller:
    """A printer poller class and where it came from."""

    poller: type[PrinterPoller]
    route: str
    origin: str


@dataclass(frozen=True)
class PluginFailure:
    """A connector that could not be used, and why (one line)."""

    route: str
    origin: str
    reason: str


@dataclass(frozen=True)
class Score:
    """One connector's detection score for one file."""

    connector: LoadedConnector
    score: float
    error: str | None = None


@dataclass
class PluginHost:
    """Holds the loaded connectors and pollers, and chooses a connector for a file."""

    connectors: dict[str, LoadedConnector] = field(default_factory=dict)
    pollers: dict[str, LoadedPoller] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    @classmethod
    def load(
        cls,
        dropin_dir: Path | None = None,
        *,
        builtins: bool = True,
        entry_points: bool = True,
    ) -> PluginHost:
        """Load connectors from every enabled route."""
        host = cls()
        if builtins:
            for module in BUILTIN_MODULES:
                host._import_and_register(module, "built-in", module)
        if entry_points:
            host.load_entry_points()
        if dropin_dir is not None:
            host.load_dropin_dir(dropin_dir)
        host.bind(None, ephemeral_salt)
        return host

    # -- routes -------------------------------------------------------------------------

    def load_entry_points(self) -> None:
        """Load every entry point in the ``printharvest`` group."""
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                         key=lambda e: e.name):
            origin = f"{ep.name} = {ep.value}"
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must never stop the host
                self._fail("entry point", origin, f"import failed: {_one_line(exc)}")
                continue
            if isinstance(obj, ModuleType):
                self.register_module(obj, "entry point", origin)
            else:
                items = obj if isinstance(obj, list | tuple) else [obj]
                self._register_items(items, "entry point", origin)

    def load_dropin_dir(self, folder: Path) -> None:
        """Import every ``*.py`` file of the drop-in folder as a connector module."""
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            origin = str(path)
            module_name = f"printharvest_dropin_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                if spec is None or spec.loader is None:
                    raise ImportError("not a Python module")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except (Exception, SystemExit) as exc:
                sys.modules.pop(module_name, None)
                self._fail("drop-in", origin, f"import failed: {_one_line(exc)}")
                continue
            self.register_module(module, "drop-in", origin)

    def _import_and_register(self, module_name: str, route: str, origin: str) -> None:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            self._fail(route, origin, f"import failed: {_one_line(exc)}")
            return
        self.register_module(module, route, origin)

    def register_module(self, module: ModuleType, route: str, origin: str) -> None:
        """Register the ``CONNECTORS`` and ``POLLERS`` a module declares."""
        items = list(getattr(module, "CONNECTORS", [])) + list(getattr(module, "POLLERS", []))
        if not items:
            self._fail(route, origin, "declares no CONNECTORS or POLLERS list")
            return
        self._register_items(items, route, origin)

    def _register_items(self, items: Iterable[Any], route: str, origin: str) -> None:
        for item in items:
            if inspect.isclass(item) and issubclass(item, PrinterPoller):
                self._register_poller(item, route, origin)
            else:
                self.register_connector(item, route, origin)

    def register_connector(self, item: Any, route: str, origin: str) -> None:
        """Check one connector class against the contract and keep it, or record why not."""
        where = f"{origin} ({getattr(item, '__name__', type(item).__name__)})"
        if not (inspect.isclass(item) and issubclass(item, FileConnector)):
            self._fail(route, where, "is not a FileConnector or PrinterPoller subclass")
            return
        try:
            connector = item()
        except Exception as exc:
            self._fail(route, where, f"cannot be constructed: {_one_line(exc)}")
            return
        problem = contract_problem(connector)
        if problem is None and connector.id in self.connectors:
            owner = self.connectors[connector.id].origin
            problem = f"id {connector.id!r} is already used by {owner}"
        if problem is not None:
            self._fail(route, where, problem)
            return
        self.connectors[connector.id] = LoadedConnector(connector, route, where)

    def _register_poller(self, item: type[PrinterPoller], route: str, origin: str) -> None:
        where = f"{origin} ({item.__name__})"
        ident = getattr(item, "id", "")
        if not isinstance(ident, str) or not _ID_PATTERN.match(ident):
            self._fail(route, where, "poller id must be lower-case letters, digits, _ . -")
        elif ident in self.pollers:
            self._fail(route, where, f"poller id {ident!r} is already used")
        elif getattr(item, "poll", None) is PrinterPoller.poll:
            self._fail(route, where, "does not implement poll()")
        else:
            self.pollers[ident] = LoadedPoller(item, route, where)

    def _fail(self, route: str, origin: str, reason: str) -> None:
        self.failures.append(PluginFailure(route, origin, reason))

    # -- selection ----------------------------------------------------------------------

    def ordered(self) -> list[LoadedConnector]:
        """Connectors in tie-break order."""
        return sorted(self.connectors.values(), key=lambda c: c.sort_key)

    def scores(self, probe: FileProbe) -> list[Score]:
        """Every connector's guarded score for ``probe``, best first, ties broken."""
        results = [guarded_score(c, probe) for c in self.ordered()]
        # sorted() is stable, so equal scores keep the tie-break order of ordered().
        return sorted(results, key=lambda s: -s.score)

    def bind(self, rules_dir: Path | None, salt: Callable[[], bytes]) -> None:
        """Hand every loaded connector the lab's context (rules folder, salt, nested harvest)."""
        context = HarvestContext(rules_dir=rules_dir, salt=salt,
                                 harvest_nested=self.harvest_nested)
        for loaded in self.connectors.values():
            loaded.connector.context = context

    def harvest_nested(self, probe: FileProbe, exclude: str) -> list[HarvestRecord]:
        """Harvest a file found inside another with the best connector other than ``exclude``."""
        ranked = [s for s in self.scores(probe) if s.connector.id != exclude]
        if not ranked or ranked[0].score < MIN_SCORE:
            raise CorruptFileError(probe.display_path, "no connector reads the nested file")
        return ranked[0].connector.connector.harvest(probe)

    def select(self, probe: FileProbe) -> LoadedConnector | None:
        """The winning connector for ``probe``, or None when nothing claims it."""
        ranked = self.scores(probe)
        if ranked and ranked[0].score >= MIN_SCORE:
            return ranked[0].connector
        return None


def guarded_score(loaded: LoadedConnector, probe: FileProbe) -> Score:
    """Call ``detect`` so that nothing it does can escape: errors and NaN become 0."""
    try:
        raw = float(loaded.connector.detect(probe))
    except Exception as exc:
        return Score(loaded, 0.0, f"detect raised {type(exc).__name__}")
    if not math.isfinite(raw):
        return Score(loaded, 0.0, "detect returned a non-finite score")
    return Score(loaded, min(1.0, max(0.0, raw)))


def contract_problem(connector: FileConnector) -> str | None:
    """Why ``connector`` breaks the file-connector contract, or None when it keeps it."""
    cls = type(connector)
    if not isinstance(connector.id, str) or not _ID_PATTERN.match(connector.id):
        return "id must be 1-64 lower-case letters, digits, _ . - (starting with a letter)"
    if not isinstance(connector.label, str) or not connector.label.strip():
        return "label must be a non-empty string"
    if not isinstance(connector.version, str) or not connector.version.strip():
        return "version must be a non-empty string"
    patterns = connector.patterns
    if not isinstance(patterns, tuple | list) or not all(isinstance(p, str) for p in patterns):
        return "patterns must be a tuple of glob strings"
    if cls.detect is FileConnector.detect:
        return "does not implement detect()"
    if cls.harvest is FileConnector.harvest and not connector.collective:
        return "does not implement harvest()"
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    return f"{name}: {text}"[:300] if text else name
