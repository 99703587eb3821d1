"""Looking at an inbox: its jobs (top-level entries), their files and a stat snapshot.

A *job* is one top-level entry of an inbox: a loose file, or a folder (a job folder, taken as
a whole). A snapshot maps each file below the entry to ``(size, mtime_ns)``; an entry is
complete when its snapshot stops changing (or, for a loose file, when the OS reported it
closed after writing and nothing changed since).

Files that are still being written by common tools (dot-files such as rsync's temporary
``.name.XXXX``, ``*.part``, ``*.crdownload``, Office's ``~$`` locks) are not part of a job;
they turn into real names when the tool finishes, which is an event like any other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from printharvest.harvest.names import NOT_UTF8, SYMLINK, Notices, undecodable

Snapshot = dict[str, tuple[int, int]]
"""Relative path (forward slashes) below the inbox -> (size, mtime_ns)."""

IN_PROGRESS_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".filepart")


def in_progress(name: str) -> bool:
    """True for names that tools use while a file is still being written."""
    lower = name.lower()
    return name.startswith((".", "~$")) or lower.endswith(IN_PROGRESS_SUFFIXES)


NOTICES = Notices()
"""Links and names that are not UTF-8 are skipped and said once (the service routes it)."""


def _skipped(entry: os.DirEntry[str]) -> bool:
    """True (said once) for entries a job never includes: links, names not UTF-8."""
    if entry.is_symlink():
        NOTICES.once(entry.path, SYMLINK)
        return True
    if undecodable(entry.name):
        NOTICES.once(entry.path, NOT_UTF8)
        return True
    return False


def top_entries(inbox: Path) -> list[str]:
    """The names of the inbox's top-level entries (candidate jobs), sorted."""
    try:
        with os.scandir(inbox) as it:
            return sorted(e.name for e in it if not in_progress(e.name) and not _skipped(e))
    except OSError:
        return []


def snapshot(inbox: Path, name: str) -> Snapshot:
    """Every regular file of the entry ``name`` with its size and mtime (empty if gone)."""
    found: Snapshot = {}
    top = inbox / name
    try:
        if top.is_symlink():
            return found
        if top.is_file():
            st = top.stat()
            return {name: (st.st_size, st.st_mtime_ns)}
        pending = [top]
        while pending:
            folder = pending.pop()
            with os.scandir(folder) as it:
                for entry in it:
                    if in_progress(entry.name) or _skipped(entry):
                        continue
                    if entry.is_dir():
                        pending.append(Path(entry.path))
                    elif entry.is_file():
                        st = entry.stat()
                        rel = Path(entry.path).relative_to(inbox).as_posix()
                        found[rel] = (st.st_size, st.st_mtime_ns)
    except OSError:
        # The entry moved away or is being replaced: the next look will tell.
        return found
    return found


def top_name(inbox: Path, path: str) -> str | None:
    """The top-level entry an event path falls under, or None when it is outside the inbox."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(inbox)
    except ValueError:
        return None
    if not rel.parts or in_progress(rel.parts[0]):
        return None
    return rel.parts[0]


def sha256_of(path: Path) -> str:
    """The content hash of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def free_name(target: Path, reserved: Callable[[Path], bool] = lambda _p: False) -> Path:
    """``target``, or ``name-1.ext``, ``name-2.ext``... when something already uses the name.

    The reason file that may sit beside a quarantined file counts as a use, so a quarantined
    file never lands beside another file's reason; so does ``reserved`` (a destination
    another file is planned to move to).
    """
    if not _taken(target, reserved):
        return target
    stem, dot, rest = target.name.partition(".")
    for n in range(1, 100_000):
        candidate = target.with_name(f"{stem}-{n}{dot}{rest}")
        if not _taken(candidate, reserved):
            return candidate
    raise OSError(f"{target}: no free name left")


def _taken(path: Path, reserved: Callable[[Path], bool]) -> bool:
    return (os.path.lexists(path) or os.path.lexists(str(path) + ".reason.txt")
            or reserved(path))
