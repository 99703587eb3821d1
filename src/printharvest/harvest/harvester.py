"""From input paths to HarvestRecords: walk, probe, select a connector, harvest, apply rules.

Folders are walked in sorted order; zip containers (zips no connector claims as a format of
its own) are expanded safely and walked like folders. Every failure becomes a one-line
:class:`~printharvest.exceptions.HarvestError` in the outcome; nothing here raises for one
bad file.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pydantic

from printharvest.connectors.probe import FileProbe, KnownHash, probe_file
from printharvest.exceptions import CorruptFileError, HarvestError, UnsupportedFileError
from printharvest.harvest.names import NOT_UTF8, SYMLINK, undecodable
from printharvest.harvest.notices import unclaimed_reason
from printharvest.harvest.plugins import LoadedConnector, PluginHost, records_of
from printharvest.harvest.unzip import extract_zip
from printharvest.models import HarvestRecord
from printharvest.rules.lab import Rules

IGNORED_NAMES = {"thumbs.db", "desktop.ini", "dicomdir", ".ds_store"}
MAX_ZIP_DEPTH = 2
Grouping = Literal["root", "case"]
_Probed = tuple[FileProbe, LoadedConnector | None]
Listed = tuple[Path, tuple[str, ...]]
"""A file of an input and its path parts for case keys (:meth:`Harvester.listing`)."""


@dataclass
class HarvestedRecord:
    """A record with the rule notes (field -> rule) that filled parts of it."""

    record: HarvestRecord
    rule_notes: dict[str, str] = field(default_factory=dict)
    contents: list[str] = field(default_factory=list)
    """sha256 of every file (and enclosing zip) the record was read from: a later copy of
    any of them is linked to this record rather than harvested again."""


@dataclass
class HarvestOutcome:
    """Everything one harvest run produced: records in input order, and one-line errors."""

    items: list[HarvestedRecord] = field(default_factory=list)
    errors: list[HarvestError] = field(default_factory=list)
    files_seen: int = 0
    containers: dict[str, list[str]] = field(default_factory=dict)
    """Zip member (display path) -> sha256 of the zips it sits in, outermost first."""

    @property
    def records(self) -> list[HarvestRecord]:
        """The records alone."""
        return [item.record for item in self.items]

    def extend(self, other: HarvestOutcome) -> None:
        """Add another outcome's records and errors to this one."""
        self.items.extend(other.items)
        self.errors.extend(other.errors)
        self.files_seen += other.files_seen


class Harvester:
    """Turns files and folders into records using the plugin host and the rules."""

    def __init__(self, host: PluginHost, rules: Rules, inboxes: Iterable[Path] = ()) -> None:
        self.host = host
        self.rules = rules
        # Folders that always hold jobs (never are one), whatever lies in them.
        self.inboxes = {p.resolve() for p in inboxes}
        # Hidden files are skipped unless a connector names one outright (OctoPrint's
        # ".metadata.json"): then that exact name is read like any other file.
        self.hidden_names = {p.lower() for c in host.connectors.values()
                             for p in c.connector.patterns
                             if p.startswith(".") and not any(ch in p for ch in "*?[")}

    def harvest_paths(
        self, paths: Iterable[Path], *, grouping: Grouping = "case"
    ) -> HarvestOutcome:
        """Harvest every path; a folder's top-level entries are its jobs (as in the inbox)."""
        outcome = HarvestOutcome()
        for path in paths:
            outcome.extend(self.harvest_root(path, grouping=grouping))
        return outcome

    def harvest_root(self, root: Path, *, grouping: Grouping = "case") -> HarvestOutcome:
        """Harvest one input: a file, a zip, or a folder of jobs."""
        files, errors = self.listing(root)
        outcome = HarvestOutcome(errors=errors)
        outcome.extend(self.harvest_listed(files, grouping=grouping))
        return outcome

    def harvest_listed(
        self, files: Sequence[Listed], *, grouping: Grouping = "case"
    ) -> HarvestOutcome:
        """Harvest files :meth:`listing` found below one input, as that one input."""
        def probes(scratch: Path, outcome: HarvestOutcome) -> Iterator[_Probed]:
            for path, parts in files:
                yield from self._probe_one(path, str(path), parts, scratch, outcome, 0)

        return self._harvest(probes, grouping)

    def harvest_files(
        self,
        root: Path,
        files: Iterable[Path],
        *,
        grouping: Grouping = "case",
        known: Mapping[Path, KnownHash] | None = None,
    ) -> HarvestOutcome:
        """Harvest chosen files below ``root`` as one input (case keys relative to ``root``).

        The watch service uses this for one job of an inbox: the files it has seen settle,
        named by their path below the inbox so that case keys match a whole-inbox harvest.
        ``known`` holds the hashes it already took (see :func:`probe_file`).
        """
        hashes = known or {}

        def probes(scratch: Path, outcome: HarvestOutcome) -> Iterator[_Probed]:
            for path in files:
                parts = path.relative_to(root).parts
                yield from self._probe_one(path, str(path), parts, scratch, outcome, 0,
                                           known=hashes.get(path))

        return self._harvest(probes, grouping)

    def _harvest(
        self, probes: Callable[[Path, HarvestOutcome], Iterator[_Probed]], grouping: Grouping
    ) -> HarvestOutcome:
        """Probe (in a private scratch folder for zip members), select, then harvest."""
        outcome = HarvestOutcome()
        with tempfile.TemporaryDirectory(prefix="printharvest-") as scratch:
            claimed: list[tuple[FileProbe, LoadedConnector]] = []
            for probe, winner in probes(Path(scratch), outcome):
                outcome.files_seen += 1
                if winner is None:
                    outcome.errors.append(_unclaimed(probe, self.host))
                    continue
                if winner.connector.collective:
                    # kept until its whole set is read: a short head only, so that a
                    # series of thousands of slices costs kilobytes per file, not MiB
                    claimed.append((probe.slim(), winner))
                else:
                    # harvested now, its windows freed before the next file is read
                    self._run(winner, [probe], outcome, single=True)
            self._harvest_claimed(claimed, grouping, outcome)
        return outcome

    # -- walking ------------------------------------------------------------------------

    def listing(self, root: Path) -> tuple[list[Listed], list[HarvestError]]:
        """The files one input stands for, each with its parts for case keys, and the entries
        that cannot be read (links, pipes, names not UTF-8); nothing is opened.

        A folder with files of its own is one job (its name is the top-level folder for case
        keys); a folder of folders is an inbox of jobs, like the watched inbox.
        """
        errors: list[HarvestError] = []
        if not root.exists():
            return [], [HarvestError(root, "no such file or folder")]
        if root.is_dir():
            entries = sorted(p for p in root.rglob("*")
                             if (p.is_symlink() or not p.is_dir())
                             and not _ignored(p, root, self.hidden_names))
            files = []
            for path in entries:
                if path.is_symlink() and not path.exists():
                    errors.append(HarvestError(path, "broken link, nothing to read"))
                elif _linked(path, root):
                    errors.append(HarvestError(path, SYMLINK))
                elif undecodable(str(path.relative_to(root))):
                    errors.append(HarvestError(path, NOT_UTF8))
                elif path.is_file():
                    files.append(path)
                elif path.is_symlink() and not path.exists():
                    errors.append(HarvestError(path, "broken link, nothing to read"))
                else:
                    errors.append(CorruptFileError(
                        path, "not a regular file (a pipe, device or socket)"))
            job = root.resolve() not in self.inboxes and any(p.parent == root for p in files)
            prefix = (root.name,) if job else ()
            return [(path, (*prefix, *path.relative_to(root).parts)) for path in files], errors
        return [(root, (root.name,))], errors

    def _probe_one(
        self,
        path: Path,
        shown: str,
        parts: tuple[str, ...],
        scratch: Path,
        outcome: HarvestOutcome,
        depth: int,
        *,
        known: KnownHash | None = None,
    ) -> Iterator[_Probed]:
        try:
            probe = probe_file(path, display_path=shown, relative_parts=parts, known=known)
        except HarvestError as exc:
            outcome.errors.append(exc)
            return
        winner = self.host.select(probe)
        if probe.zip_members is not None and winner is None:
            yield from self._expand_zip(probe, scratch, outcome, depth)
            return
        yield probe, winner

    def _expand_zip(
        self, probe: FileProbe, scratch: Path, outcome: HarvestOutcome, depth: int
    ) -> Iterator[_Probed]:
        if depth >= MAX_ZIP_DEPTH:
            outcome.errors.append(CorruptFileError(probe.display_path, "zip nested too deeply"))
            return
        target = Path(tempfile.mkdtemp(dir=scratch))
        try:
            members, problems = extract_zip(probe.path, probe.display_path, target)
        except HarvestError as exc:
            outcome.errors.append(exc)
            return
        outcome.errors.extend(HarvestError(p.split(": ", 1)[0], p.split(": ", 1)[1])
                              for p in problems)
        outer = [*outcome.containers.get(probe.display_path, []), probe.sha256]
        for member in members:
            parts = (*probe.relative_parts, *member.name.split("/"))
            shown = f"{probe.display_path}!/{member.name}"
            outcome.containers[shown] = outer
            yield from self._probe_one(member.path, shown, parts, scratch, outcome, depth + 1)

    # -- harvesting ---------------------------------------------------------------------

    def _harvest_claimed(
        self,
        claimed: list[tuple[FileProbe, LoadedConnector]],
        grouping: Grouping,
        outcome: HarvestOutcome,
    ) -> None:
        groups: dict[tuple[str, str], list[FileProbe]] = defaultdict(list)
        for probe, loaded in claimed:
            key, _ = self.rules.case_key(probe.relative_parts)
            if loaded.connector.collective:
                groups[(loaded.id, key if grouping == "case" else "")].append(probe)
            else:
                self._run(loaded, [probe], outcome, single=True)
        for (connector_id, _), probes in groups.items():
            self._run(self.host.connectors[connector_id], probes, outcome, single=False)

    def _run(
        self, loaded: LoadedConnector, probes: list[FileProbe], outcome: HarvestOutcome,
        *, single: bool
    ) -> None:
        first = probes[0]
        try:
            if single:
                records = loaded.connector.harvest(first)
            else:
                records, failed = loaded.connector.harvest_files(probes)
                outcome.errors.extend(failed)
            records = records_of(loaded.id, first.display_path, records)
        except HarvestError as exc:
            outcome.errors.append(exc)
            return
        except pydantic.ValidationError as exc:
            loc = ".".join(str(p) for p in exc.errors()[0]["loc"])
            outcome.errors.append(HarvestError(
                first.display_path, f"connector {loaded.id} produced an invalid record ({loc})"))
            return
        except MemoryError:
            outcome.errors.append(CorruptFileError(first.display_path, "too large to read"))
            return
        except Exception as exc:  # a connector bug must not stop the run
            outcome.errors.append(HarvestError(
                first.display_path, f"connector {loaded.id} failed ({type(exc).__name__})"))
            return
        key, key_rule = self.rules.case_key(first.relative_parts)
        contents = sorted({sha for p in probes
                           for sha in (p.sha256, *outcome.containers.get(p.display_path, []))})
        history = loaded.connector.job_history
        for record in records:
            # A log connector may key each row itself (a job-log row naming its job file).
            own_key = record.case_key
            notes = self.rules.enrich(record)
            if own_key:
                record.case_key, notes["case_key"] = own_key, f"connector {loaded.id}"
            elif history and record.kind == "print":
                # A job history holds many jobs: each is its own case, keyed like a poller
                # keys it (printer and job), never by the file that happened to hold them.
                record.case_key, notes["case_key"] = self.rules.job_key(record)
            else:
                record.case_key, notes["case_key"] = key, key_rule
            outcome.items.append(HarvestedRecord(record, notes, contents))


def _unclaimed(probe: FileProbe, host: PluginHost) -> HarvestError:
    """Why nobody took a file: a damaged zip says so rather than 'unknown format'."""
    if probe.head[:4] == b"PK\x03\x04" and probe.zip_members is None:
        return CorruptFileError(probe.display_path,
                                "zip archive is truncated or damaged (no readable member list)")
    # A table no map claims while a map is broken: say which map, file and line.
    return UnsupportedFileError(probe.display_path, unclaimed_reason(host, probe))


def _ignored(path: Path, root: Path, hidden_names: set[str]) -> bool:
    *folders, name = path.relative_to(root).parts
    return (
        any(p.startswith(".") or p == "__MACOSX" for p in folders)
        or (name.startswith(".") and name.lower() not in hidden_names)
        or path.name.lower() in IGNORED_NAMES
        or path.name.endswith(".reason.txt")
    )


def _linked(path: Path, root: Path) -> bool:
    """True when ``path`` or a folder between ``root`` and it is a symbolic link."""
    current = path
    while current != root and current != current.parent:
        if current.is_symlink():
            return True
        current = current.parent
    return False
