"""FileProbe: what detection may look at, read from disk exactly once.

A probe holds the size, the sha256, the first and last MiB and (for zip files) the member
list. Detection reads only the probe; harvest may stream the whole file through
:meth:`FileProbe.open` when a format needs it (meshes), or use head and tail only
(slicer files keep their statistics at the start or the end), the way moonraker reads
big G-code.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from printharvest.exceptions import CorruptFileError

WINDOW = 1 << 20  # 1 MiB head and tail
SLIM_WINDOW = 16 << 10
"""The head kept for a file waiting for its set (enough for a DICOM header's usual facts)."""
_CHUNK = 1 << 20

KnownHash = tuple[int, int, str]
"""``(size, mtime_ns, sha256)`` of a file hashed earlier (see :func:`probe_file`)."""


@dataclass(frozen=True)
class FileProbe:
    """A bounded, read-once view of one input file."""

    path: Path
    """The file on disk (for zip members, a private extracted copy)."""
    display_path: str
    """How the file is named in records and messages (``job.zip!/part.stl`` for members)."""
    size: int
    sha256: str
    head: bytes
    tail: bytes
    zip_members: tuple[str, ...] | None = None
    relative_parts: tuple[str, ...] = field(default_factory=tuple)
    """The path below the input root, used for case keys (``("Job7", "liver.stl")``)."""

    @property
    def name(self) -> str:
        """The file's base name as the lab named it."""
        return self.display_path.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def lower_name(self) -> str:
        """The base name in lower case, for extension checks."""
        return self.name.lower()

    @property
    def is_whole(self) -> bool:
        """True when ``head`` already holds the whole file."""
        return self.size <= len(self.head)

    def slim(self) -> FileProbe:
        """This probe with only a short head and no tail, for a file that waits for the rest
        of its set (a DICOM series): memory stays bounded per file, not per job. Whatever
        needs more reads the file again (it is still there: input or private scratch)."""
        if len(self.head) <= SLIM_WINDOW and not self.tail:
            return self
        return replace(self, head=self.head[:SLIM_WINDOW], tail=b"")

    def matches(self, patterns: Iterable[str]) -> bool:
        """True when the file name matches one of the glob patterns (case-insensitive)."""
        return any(fnmatch.fnmatch(self.lower_name, p.lower()) for p in patterns)

    def head_text(self, limit: int | None = None) -> str:
        """The head decoded leniently as text (invalid bytes replaced); ``""`` for a binary
        head (NUL bytes in its first 1 KiB: DICOM, pixels, meshes), which no text format
        matches anyway, so that detection does not decode binary for every connector."""
        if b"\x00" in self.head[:1024]:
            return ""
        data = self.head if limit is None else self.head[:limit]
        return data.decode("utf-8", errors="replace")

    def tail_text(self) -> str:
        """The tail decoded leniently as text, starting at a line boundary."""
        data = self.tail
        if not self.is_whole:
            cut = data.find(b"\n")
            data = data[cut + 1 :] if cut >= 0 else data
        return data.decode("utf-8", errors="replace")

    def open(self) -> BinaryIO:
        """Open the whole file for streaming (harvest only, never detection)."""
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise CorruptFileError(self.display_path, f"cannot open: {exc.strerror}") from exc

    def read_all(self, limit: int) -> bytes:
        """Read the whole file, refusing files larger than ``limit`` bytes."""
        if self.size > limit:
            raise CorruptFileError(
                self.display_path, f"file is {self.size} bytes, more than the {limit} allowed"
            )
        if self.is_whole:
            return self.head
        with self.open() as fh:
            # read(n) allocates n bytes up front: ask for what the file holds, not the limit
            return fh.read(min(limit, self.size) + 1)


def probe_file(
    path: Path,
    *,
    display_path: str | None = None,
    relative_parts: tuple[str, ...] = (),
    known: KnownHash | None = None,
) -> FileProbe:
    """Read ``path`` once: hash it, keep the head and tail, list zip members.

    ``known`` is ``(size, mtime_ns, sha256)`` of a hash taken earlier (the watch service
    hashes each settled file once, for its journal): while the file still has that size and
    mtime, only its head and tail are read, so a big file is not read twice.
    """
    shown = display_path or str(path)
    try:
        with _open_regular(path, shown) as fh:
            st = os.fstat(fh.fileno())
            if known is not None and (st.st_size, st.st_mtime_ns) == known[:2]:
                size, sha = st.st_size, known[2]
                head = fh.read(WINDOW)
                fh.seek(max(0, size - WINDOW))
                tail = fh.read(WINDOW)
            else:
                size, sha, head, tail = _read_whole(fh)
    except OSError as exc:
        raise CorruptFileError(shown, f"cannot read: {exc.strerror or exc}") from exc
    members: tuple[str, ...] | None = None
    if head[:4] == b"PK\x03\x04" or (size == 22 and head[:4] == b"PK\x05\x06"):
        members = _zip_members(path)
    return FileProbe(
        path=path,
        display_path=shown,
        size=size,
        sha256=sha,
        head=head,
        tail=tail,
        zip_members=members,
        relative_parts=relative_parts or (path.name,),
    )


def _read_whole(fh: BinaryIO) -> tuple[int, str, bytes, bytes]:
    """Size, sha256, head and tail of an open file, read once from start to end."""
    digest = hashlib.sha256()
    head = b""
    tail = b""
    size = 0
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)
        if len(head) < WINDOW:
            head += chunk[: WINDOW - len(head)]
        tail = (tail + chunk)[-WINDOW:]
        size += len(chunk)
    return size, digest.hexdigest(), head, tail


def _open_regular(path: Path, shown: str) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file.

    Opened non-blocking first, so that a named pipe or a device dropped into the inbox is
    refused at once instead of blocking (or streaming forever) on read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CorruptFileError(shown, "not a regular file (a pipe, device or socket)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _zip_members(path: Path) -> tuple[str, ...] | None:
    try:
        with zipfile.ZipFile(path) as zf:
            return tuple(info.filename for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
