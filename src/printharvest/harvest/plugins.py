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

Bounded: with :class:`~printharvest.harvest.sandbox.Limits` (what the App passes, so every
command), third-party modules (entry points and drop-ins) are imported, and their connectors'
``detect`` and ``harvest`` run, in one separate process (:mod:`printharvest.harvest.sandbox`)
under the harvest time limit and the worker memory cap; the host holds proxies for them.
Built-in connectors run in the harvesting process: they are part of printharvest, pass the
hostile-input contract tests, and read through bounded probes; that process is bounded too
(a ``watch`` worker, or for ``inspect`` and ``ingest`` the forked copy of
:mod:`printharvest.harvest.bounded`).

A lab switches a connector or poller off by id (``disabled_connectors`` in
printharvest.yaml): it is still loaded and listed (as off), but never chosen.

Selection: every connector's ``detect`` is called on the probe, guarded (an exception, a
non-number or a non-finite score counts as 0 with a reason; a score is clamped to [0, 1]).
The highest score wins; ties break deterministically by route (drop-in, then entry point,
then built-in: the lab's own connector is the more specific one) and then by connector id.
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
from typing import TYPE_CHECKING, Any

import pydantic

from printharvest.connectors.base import FileConnector, HarvestContext
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError, HarvestError
from printharvest.models import HarvestRecord
from printharvest.pollers.base import PrinterPoller
from printharvest.privacy.phi import ephemeral_salt

if TYPE_CHECKING:
    from printharvest.harvest.sandbox import Limits, Sandbox

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
    disabled: dict[str, LoadedConnector | LoadedPoller] = field(default_factory=dict)
    """Connectors and pollers the lab switched off (``disabled_connectors``), by id."""
    unknown_disabled: list[str] = field(default_factory=list)
    """Ids in ``disabled_connectors`` that nothing installed carries (a typo, or uninstalled)."""
    rules_dir: Path | None = None
    """The lab's rules folder, as last bound (:meth:`bind`)."""
    sandbox: Sandbox | None = None
    """The process third-party connectors run in, when loaded with limits."""
    _pollers_only: bool = False
    last_detect_problems: tuple[str, list[str]] = ("", [])
    """The last scored file and its connectors' detect problems (``id: reason``)."""

    @classmethod
    def load(
        cls,
        dropin_dir: Path | None = None,
        *,
        builtins: bool = True,
        entry_points: bool = True,
        disabled: Iterable[str] = (),
        limits: Limits | None = None,
    ) -> PluginHost:
        """Load connectors from every enabled route.

        With ``limits``, third-party modules are imported and run in a separate, bounded
        process (:mod:`printharvest.harvest.sandbox`); without, in this process (tests, and
        the sandbox process itself).
        """
        host = cls()
        if builtins:
            for module in BUILTIN_MODULES:
                host._import_and_register(module, "built-in", module)
        sources = [*(entry_point_sources() if entry_points else []),
                   *(dropin_sources(dropin_dir) if dropin_dir is not None else [])]
        if limits is not None and sources:
            from printharvest.harvest.sandbox import Sandbox

            host.sandbox = Sandbox(sources, limits)
            host.sandbox.load_into(host)
        else:
            for source in sources:
                host.load_source(source)
        host.switch_off(disabled)
        host.bind(None, ephemeral_salt)
        return host

    def close(self) -> None:
        """Stop the third-party connectors' process, if there is one."""
        if self.sandbox is not None:
            self.sandbox.close()

    def switch_off(self, ids: Iterable[str]) -> None:
        """Move the connectors and pollers with these ids out of use (listed as off)."""
        for ident in ids:
            found: LoadedConnector | LoadedPoller | None = self.connectors.pop(ident, None) \
                or self.pollers.pop(ident, None)
            if found is None:
                self.unknown_disabled.append(ident)
            else:
                self.disabled[ident] = found

    # -- routes -------------------------------------------------------------------------

    def load_source(self, source: PluginSource, *, pollers_only: bool = False) -> None:
        """Import one third-party module (an entry point or a drop-in file) and register it.

        ``pollers_only``: register its pollers alone (its connectors run in the sandbox).
        """
        self._pollers_only = pollers_only
        try:
            if source.route == "entry point":
                self.load_entry_point(source.target)
            else:
                self.load_dropin_file(Path(source.target))
        finally:
            self._pollers_only = False

    def load_entry_points(self) -> None:
        """Load every entry point in the ``printharvest`` group."""
        for source in entry_point_sources():
            self.load_entry_point(source.target)

    def load_entry_point(self, name: str) -> None:
        """Load the entry point ``name`` of the ``printharvest`` group."""
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name):
            origin = f"{ep.name} = {ep.value}"
            try:
                obj = ep.load()
            except (Exception, SystemExit) as exc:  # a broken plugin must never stop the host
                self._fail("entry point", origin, f"import failed: {_one_line(exc)}")
                continue
            if isinstance(obj, ModuleType):
                self.register_module(obj, "entry point", origin)
            else:
                items = obj if isinstance(obj, list | tuple) else [obj]
                self._register_items(items, "entry point", origin)

    def load_dropin_dir(self, folder: Path) -> None:
        """Import every ``*.py`` file of the drop-in folder as a connector module."""
        for source in dropin_sources(folder):
            self.load_dropin_file(Path(source.target))

    def load_dropin_file(self, path: Path) -> None:
        """Import one drop-in ``*.py`` file as a connector module."""
        origin = str(path)
        module_name = dropin_module_name(path)
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
            return
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
            elif self._pollers_only:
                continue
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
        self.add_connector(connector, route, where)

    def add_connector(self, connector: FileConnector, route: str, where: str) -> None:
        """Keep a constructed connector, unless it breaks the contract or its id is taken."""
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

    def fail(self, route: str, origin: str, reason: str) -> None:
        """Record that a connector source could not be used (the sandbox reports here)."""
        self._fail(route, origin, reason)

    # -- selection ----------------------------------------------------------------------

    def ordered(self) -> list[LoadedConnector]:
        """Connectors in tie-break order."""
        return sorted(self.connectors.values(), key=lambda c: c.sort_key)

    def scores(self, probe: FileProbe) -> list[Score]:
        """Every connector's guarded score for ``probe``, best first, ties broken."""
        results = [guarded_score(c, probe) for c in self.ordered()]
        # Kept for the reason a file nobody claims gets (only the last file's: bounded).
        self.last_detect_problems = (probe.display_path,
                                     [f"{r.connector.id}: {r.error}" for r in results if r.error])
        # sorted() is stable, so equal scores keep the tie-break order of ordered().
        return sorted(results, key=lambda s: -s.score)

    def bind(self, rules_dir: Path | None, salt: Callable[[], bytes]) -> None:
        """Hand every loaded connector the lab's context (rules folder, salt, nested harvest)."""
        self.rules_dir = rules_dir
        context = HarvestContext(rules_dir=rules_dir, salt=salt,
                                 harvest_nested=self.harvest_nested)
        for loaded in self.connectors.values():
            loaded.connector.context = context
        if self.sandbox is not None:
            self.sandbox.bind(rules_dir, salt)

    def harvest_nested(self, probe: FileProbe, exclude: str) -> list[HarvestRecord]:
        """Harvest a file found inside another with the best connector other than ``exclude``."""
        ranked = [s for s in self.scores(probe) if s.connector.id != exclude]
        if not ranked or ranked[0].score < MIN_SCORE:
            raise CorruptFileError(probe.display_path, "no connector reads the nested file")
        winner = ranked[0].connector
        return records_of(winner.id, probe.display_path, winner.connector.harvest(probe))

    def select(self, probe: FileProbe) -> LoadedConnector | None:
        """The winning connector for ``probe``, or None when nothing claims it."""
        ranked = self.scores(probe)
        if ranked and ranked[0].score >= MIN_SCORE:
            return ranked[0].connector
        return None


def guarded_score(loaded: LoadedConnector, probe: FileProbe) -> Score:
    """Call ``detect`` so that nothing it does can escape: errors, non-numbers, NaN become 0."""
    try:
        value = loaded.connector.detect(probe)
    except DetectFailure as exc:  # a sandboxed detect that timed out, died or raised
        return Score(loaded, 0.0, exc.reason)
    except Exception as exc:
        return Score(loaded, 0.0, f"detect raised {type(exc).__name__}")
    score, problem = score_of(value)
    return Score(loaded, score, problem)


class DetectFailure(Exception):
    """Raised by a sandboxed connector's ``detect``: why it has no score (one line)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def score_of(value: object) -> tuple[float, str | None]:
    """A detect result as a score in [0, 1], or 0 and what was wrong with it.

    Only real numbers count: ``None``, a string such as ``"0.99"`` or a bool is refused, so
    that a connector's mistake shows in ``connectors test`` instead of passing silently.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0, (f"detect returned {describe_value(value)}; expected a number "
                     "from 0 to 1 (return 0.0 for 'not mine')")
    raw = float(value)
    if not math.isfinite(raw):
        return 0.0, "detect returned a non-finite score"
    return min(1.0, max(0.0, raw)), None


def records_of(connector_id: str, path: str, value: object) -> list[HarvestRecord]:
    """Check what ``harvest`` returned: a list of valid HarvestRecords, or a one-line error.

    The error says what was returned and what was expected (never the returned content,
    which may hold a job or patient name).
    """
    expected = "expected a list of HarvestRecord (make them with self.new_record)"
    if isinstance(value, HarvestRecord):
        raise HarvestError(path, f"connector {connector_id}: harvest returned one HarvestRecord,"
                                 f" not a list; {expected}")
    if not isinstance(value, list | tuple):
        raise HarvestError(path, f"connector {connector_id}: harvest returned "
                                 f"{describe_value(value)}; {expected}")
    records: list[HarvestRecord] = []
    for i, item in enumerate(value):
        if not isinstance(item, HarvestRecord):
            raise HarvestError(path, f"connector {connector_id}: harvest returned a list "
                                     f"holding {describe_value(item)} at [{i}]; {expected}")
        records.append(item)  # the instance itself: it may carry private data (series keys)
    return records


def validation_summary(exc: pydantic.ValidationError) -> str:
    """The first problem of a validation error as ``field.path: message`` (no input value)."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(the record itself)"
    return f"{loc}: {first['msg']}"


def describe_value(value: object) -> str:
    """What kind of thing ``value`` is, in words, without its content."""
    if value is None:
        return "None"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


@dataclass(frozen=True)
class PluginSource:
    """One third-party module to load: an entry point (by name) or a drop-in file (path)."""

    route: str
    target: str
    value: str = ""
    """For an entry point: what it names (``module`` or ``module:attribute``)."""

    @property
    def origin(self) -> str:
        """How the source is named in messages (as its load failures name it)."""
        return f"{self.target} = {self.value}" if self.value else self.target


def entry_point_sources() -> list[PluginSource]:
    """The ``printharvest`` entry points installed, by name (nothing is imported)."""
    found: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return [PluginSource("entry point", name, value) for name, value in sorted(found.items())]


def dropin_sources(folder: Path) -> list[PluginSource]:
    """The drop-in folder's ``*.py`` files (``_`` files skipped), in name order."""
    if not folder.is_dir():
        return []
    return [PluginSource("drop-in", str(path)) for path in sorted(folder.glob("*.py"))
            if not path.name.startswith("_")]


def dropin_module_name(path: Path) -> str:
    """The module name a drop-in file is imported under."""
    return f"printharvest_dropin_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}"


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
