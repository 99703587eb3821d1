"""The connector contract: what a file connector or a printer poller must provide.

A **file connector** is a class with

* ``id`` (lower-case, unique), ``label``, ``version`` and ``patterns`` (glob hints);
* ``detect(probe) -> float``: a score in [0, 1] computed from the probe alone (size, head,
  tail, zip member list). It must be cheap and must never raise; the host clamps and guards
  it anyway and records a misbehaving connector;
* ``harvest(probe) -> list[HarvestRecord]``: one record per job, mesh or imaging set. It
  raises :class:`~printharvest.exceptions.CorruptFileError` with a one-line reason when the
  content cannot be read.

A connector that sets ``collective = True`` (DICOM) receives every file it won below one
input root at once, through ``harvest_files`` (records plus one error per unreadable file;
by default ``harvest_collection`` and no errors).

Printer pollers have their own contract in :mod:`printharvest.pollers.base`.

Connectors are registered by listing them in a module-level ``CONNECTORS`` list (or
``POLLERS`` for pollers); see :mod:`printharvest.harvest.plugins` for the three routes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import HarvestError
from printharvest.models import HarvestRecord, Source
from printharvest.privacy.phi import ephemeral_salt
from printharvest.vocab import RecordKind

NestedHarvest = Callable[[FileProbe, str], list[HarvestRecord]]
"""Harvest a file found inside another through the plugin host, skipping one connector id."""


def _no_nesting(probe: FileProbe, exclude: str) -> list[HarvestRecord]:
    raise HarvestError(probe.display_path, "no connector host to read a nested file with")


@dataclass(frozen=True)
class HarvestContext:
    """What a connector may know about the lab it runs for, handed in by the plugin host.

    Every loaded connector gets the same context (:meth:`PluginHost.bind`); a connector used
    outside a host (a unit test) sees the default: shipped rules only, a salt for this run
    alone, and no nested harvest.
    """

    rules_dir: Path | None = None
    """The lab's editable rules folder (job-log column maps, case-key rules), or None."""
    salt: Callable[[], bytes] = ephemeral_salt
    """The per-home salt for hashing identifiers (DICOM UIDs); called when needed."""
    harvest_nested: NestedHarvest = _no_nesting
    """Read a file found inside another (a mesh inside a DICOM object) with the best other
    connector of the host, the lab's own included."""


class FileConnector:
    """Base class for connectors that read files. Subclass and fill in the four attributes.

    ``self.context`` (:class:`HarvestContext`) tells a connector the lab's rules folder, the
    salt for identifiers, and how to harvest a nested file; the host sets it before use.
    """

    context: HarvestContext = HarvestContext()

    id: ClassVar[str] = ""
    label: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    patterns: ClassVar[tuple[str, ...]] = ()
    collective: ClassVar[bool] = False
    job_history: ClassVar[bool] = False
    """True for files that hold a printer's job history (one print record per job): each
    job is then keyed by its printer and job (like a poller keys it), never by the file."""

    def detect(self, probe: FileProbe) -> float:
        """Return how sure this connector is that it can read ``probe``, in [0, 1]."""
        raise NotImplementedError

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """Read the file and return its records."""
        raise NotImplementedError

    def harvest_collection(self, probes: Sequence[FileProbe]) -> list[HarvestRecord]:
        """Harvest several files as one set (only for ``collective`` connectors)."""
        records: list[HarvestRecord] = []
        for probe in probes:
            records.extend(self.harvest(probe))
        return records

    def harvest_files(
        self, probes: Sequence[FileProbe]
    ) -> tuple[list[HarvestRecord], list[HarvestError]]:
        """Harvest a collective set, returning per-file failures beside the records.

        The harvester calls this for ``collective`` connectors so that one unreadable file
        does not lose the whole set. The default is ``harvest_collection`` with no errors.
        """
        return self.harvest_collection(probes), []

    def new_record(
        self, probe: FileProbe, kind: RecordKind, *, index: int = 0, **fields: Any
    ) -> HarvestRecord:
        """A record with ``source`` filled in from the probe and this connector."""
        source = Source(
            path=probe.display_path,
            sha256=probe.sha256,
            size=probe.size,
            connector=self.id,
            connector_version=self.version,
            index=index,
        )
        return HarvestRecord(kind=kind, source=source, **fields)
