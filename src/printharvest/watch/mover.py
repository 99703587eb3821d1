"""Moving originals out of the inbox without ever losing or overwriting one.

On one filesystem a move is ``os.replace`` (atomic). Across filesystems (an inbox on a
network share, the home on a local disk) the file is copied to a hidden temporary name
beside the destination, flushed to disk, renamed into place, and only then removed from the
inbox. :func:`resume_move` finishes a move that a crash interrupted, from whatever state it
finds on disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from pathlib import Path

from printharvest.exceptions import ArchiveError as MoveError
from printharvest.watch.scan import sha256_of

STUCK_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
"""Errors that say the inbox will not let an original go (read-only or not ours to remove)."""


class SourceStuck(MoveError):
    """The original cannot be removed from the inbox: it stays there and is not copied again."""

    def __init__(self, src: Path, exc: OSError) -> None:
        super().__init__(f"{src}: cannot be removed from the inbox ({exc.strerror or exc})")
        self.folder = src.parent


class DiskFull(MoveError):
    """The archive or quarantine has no space left: filing pauses until space returns."""

    def __init__(self, where: Path, exc: OSError) -> None:
        super().__init__(f"disk full at {where} ({exc.strerror or exc})")
        self.where = where


def os_call(name: str, *args: Path) -> None:
    """Run one moving operation of the OS (``replace``, ``unlink``), by name.

    The single place the mover changes the file system, so that tests can make the OS
    refuse deterministically (a read-only inbox, a full disk) even when run as root.
    """
    getattr(os, name)(*args)


def lets_go(folder: Path) -> bool:
    """True when ``folder`` lets a file be removed again (a read-only share made writable).

    The probe copies nothing: an empty hidden file (which scans ignore) is made there and
    removed through :func:`os_call`, the way an original would be.
    """
    probe = folder / f".printharvest-probe-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return False  # read-only, or not ours: nothing was made
    os.close(fd)
    try:
        os_call("unlink", probe)
    except OSError:
        with contextlib.suppress(OSError):  # the probe is ours and empty: never left behind
            os.unlink(probe)
        return False
    return True


def _refused(exc: OSError, src: Path, dest: Path) -> MoveError:
    if exc.errno == errno.ENOSPC:
        return DiskFull(dest.parent, exc)
    if exc.errno in STUCK_ERRNOS:
        return SourceStuck(src, exc)
    return MoveError(f"{src}: cannot move ({exc.strerror or exc})")


def move_file(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest`` (which the caller chose free), atomically where possible."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DiskFull(dest.parent, exc) from exc
        raise
    if os.path.lexists(dest):
        raise MoveError(f"{dest}: already exists; not overwriting")
    try:
        os_call("replace", src, dest)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise _refused(exc, src, dest) from exc
    _copy_then_remove(src, dest)


def _copy_then_remove(src: Path, dest: Path) -> None:
    partial = dest.with_name(f".{dest.name}.printharvest-partial")
    try:
        with src.open("rb") as fin, partial.open("wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, partial)
        os_call("replace", partial, dest)
        _fsync_dir(dest.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        if exc.errno == errno.ENOSPC:
            raise DiskFull(dest.parent, exc) from exc
        raise MoveError(f"{src}: cannot copy to {dest.parent} ({exc.strerror or exc})") from exc
    _remove_original(src, dest)


def _remove_original(src: Path, dest: Path) -> None:
    """Remove the original once its copy is in place; when the inbox refuses, take the copy
    back (the original stays the only one) and raise :class:`SourceStuck`."""
    try:
        os_call("unlink", src)
    except OSError as exc:
        if exc.errno in STUCK_ERRNOS:
            with contextlib.suppress(OSError):
                dest.unlink()
            raise SourceStuck(src, exc) from exc
        raise MoveError(f"{src}: copied but cannot be removed ({exc.strerror or exc})") from exc


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resume_move(src: Path, dest: Path) -> bool:
    """Finish a move interrupted by a crash; True when the file is now at ``dest``.

    Returns False when neither place holds the file (it was taken away by someone else).
    Raises ArchiveError when ``dest`` holds other content (the caller picks a new name).
    """
    src_there, dest_there = src.is_file(), dest.is_file()
    if dest_there and not src_there:
        return True
    if src_there and dest_there:
        # A cross-filesystem copy finished but the original was not yet removed; the
        # original goes only when the copy is byte for byte the same.
        if src.stat().st_size == dest.stat().st_size and sha256_of(src) == sha256_of(dest):
            _remove_original(src, dest)
            return True
        raise MoveError(f"{dest}: exists with other content; choose a new destination")
    if src_there:
        partial = dest.with_name(f".{dest.name}.printharvest-partial")
        with contextlib.suppress(OSError):
            partial.unlink()
        move_file(src, dest)
        return True
    return False


def write_reason(dest: Path, reason: str) -> Path:
    """Write the one-line reason beside a quarantined file (atomically)."""
    target = Path(str(dest) + ".reason.txt")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(" ".join(reason.split()) + "\n", encoding="utf-8")
    os_call("replace", temporary, target)
    return target


def prune_empty(folder: Path, stop: Path) -> None:
    """Remove empty folders from ``folder`` up to (not including) ``stop``.

    Only folders that are empty go (``os.rmdir`` refuses anything else), so nothing a
    technician is still copying can be lost.
    """
    if not folder.is_dir() or folder == stop:
        return
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            sub.rmdir()
    current = folder
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
