"""Every error printharvest raises, in one tree.

::

    PrintharvestError
    ├── ConfigError            bad printharvest.yaml or rules file (names file, key, line)
    ├── PluginError            a connector failed to import or broke its contract
    ├── HarvestError           one input file could not be harvested (names file and reason)
    │   ├── UnsupportedFileError   no connector recognises the file
    │   └── CorruptFileError       a connector recognised it but its content is unreadable
    ├── ValidationError        a case field breaks the registry dictionary (names the element)
    ├── StoreError             the SQLite store cannot be opened, migrated or written
    │   ├── MigrationError
    │   └── StoreFullError     the store's disk (or SQLite's page cap) has no room to write
    ├── RecordNotFoundError    a case or record id that does not exist
    ├── PollerError            a printer poller could not fetch jobs (unreachable, 5xx, 429)

    ├── ArchiveError           an inbox original could not be moved to archive/quarantine
    └── RegistryError          NRDR upload / API failures
        ├── AuthError              sign-in needed again, or refused
        ├── TransmissionError      the registry could not be reached or answered badly
        └── EgressError            something about to leave holds a name, path or key

Messages are PHI-safe by construction: they may name a local file (the technician's own
disk) or a DICOM keyword, never a DICOM value or patient data. ``public_message`` drops the
file name too, for anything shown beyond the lab's own terminal.

Foreign exceptions are translated at the boundary with ``raise ... from exc``; only the
CLI turns these into messages and exit codes.
"""

from __future__ import annotations

from pathlib import PurePath


class PrintharvestError(Exception):
    """Base of every error printharvest raises on purpose."""

    exit_code = 1

    @property
    def public_message(self) -> str:
        """The message without any local file name, safe for exports and web pages."""
        return str(self)


class ConfigError(PrintharvestError):
    """The configuration or a rules file is invalid; the message names the file, key and line."""

    exit_code = 2


class PluginError(PrintharvestError):
    """A connector could not be loaded or violates the connector contract."""


class HarvestError(PrintharvestError):
    """One input could not be harvested.

    ``path`` is the local file (shown to the technician), ``reason`` a one-line explanation
    that never holds file content.
    """

    def __init__(self, path: str | PurePath, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(reason.split())
        super().__init__(f"{self.path}: {self.reason}")

    @property
    def public_message(self) -> str:
        """The reason alone: no file name leaves the lab."""
        return self.reason


class UnsupportedFileError(HarvestError):
    """No installed connector recognises the file."""


class CorruptFileError(HarvestError):
    """A connector recognised the file but could not read it (corrupt, truncated, hostile)."""


class ValidationError(PrintharvestError):
    """A case value breaks the registry dictionary; ``element`` names the dictionary element."""

    def __init__(self, element: str, message: str) -> None:
        self.element = element
        self.message = message
        super().__init__(f"{element}: {message}")


class StoreError(PrintharvestError):
    """The store cannot be opened, read or written."""


class MigrationError(StoreError):
    """A schema migration failed or the store is newer than this program."""


class StoreFullError(StoreError):
    """The store cannot write: its disk is full (or SQLite's page cap is reached).

    Nothing of the failed transaction was kept; the same write succeeds once there is room.
    ``path`` is the store file.
    """

    def __init__(self, path: str | PurePath, detail: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: the store cannot write (disk full: {detail})")

    @property
    def public_message(self) -> str:
        """The fault without the store's path."""
        return "the store cannot write (disk full)"


class RecordNotFoundError(PrintharvestError):
    """The requested case or record does not exist."""


class PollerError(PrintharvestError):
    """A printer or its API could not be polled; ``retry_after`` (s) when it said so.

    The message names the printer (the lab's own name for it) and the fault, never a job name.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(" ".join(message.split()))

class ArchiveError(PrintharvestError):
    """An inbox original could not be moved; it stays where it is and is retried."""


class RegistryError(PrintharvestError):
    """Something went wrong talking to the registry or producing its files."""


class AuthError(RegistryError):
    """The registry sign-in is missing, expired or refused: log in again."""


class TransmissionError(RegistryError):
    """The registry could not be reached or answered with something unusable.

    ``attempts`` says how many requests were made before giving up (0 when none was sent).
    """

    def __init__(self, message: str, attempts: int = 0) -> None:
        self.attempts = attempts
        super().__init__(message)


class EgressError(RegistryError):
    """Something about to leave the lab holds a file, folder or job name, a case key or a path.

    Nothing was written or sent. The message says what was refused and why, never the
    offending text itself.
    """
