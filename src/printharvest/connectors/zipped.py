"""Helpers for sliced containers that are zip files (``.ufp``, ``.gcode.3mf``).

Members are read bounded: small XML/JSON members whole up to a limit, an embedded G-code as
a head and a tail window (the way a loose G-code file is read), wrapped in a
:class:`~printharvest.connectors.probe.FileProbe` so the G-code helpers work unchanged.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from printharvest.connectors.probe import WINDOW, FileProbe
from printharvest.exceptions import CorruptFileError

MAX_SMALL_MEMBER = 16 << 20
MAX_RATIO = 200  # uncompressed / compressed beyond this is a zip bomb, not a file or a job


@contextmanager
def open_zip(probe: FileProbe) -> Iterator[zipfile.ZipFile]:
    """The probe's file as a zip, translating zip errors into one-line reasons."""
    try:
        with zipfile.ZipFile(probe.path) as zf:
            yield zf
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError,
            NotImplementedError) as exc:
        raise CorruptFileError(probe.display_path, f"broken zip container ({exc})") from exc
    except (OSError, zlib.error) as exc:
        raise CorruptFileError(probe.display_path, "zip member cannot be read") from exc


def find_member(zf: zipfile.ZipFile, wanted: str) -> zipfile.ZipInfo | None:
    """The member named ``wanted``, ignoring a leading ``/`` and letter case."""
    target = wanted.lstrip("/").lower()
    for info in zf.infolist():
        if info.filename.lstrip("/").lower() == target:
            return info
    return None


def read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str) -> bytes:
    """A small member whole; refuses members whose stated or real size is too large."""
    if info.file_size > MAX_SMALL_MEMBER:
        raise CorruptFileError(shown, f"member {info.filename} is larger than allowed")
    with zf.open(info) as fh:
        data = fh.read(MAX_SMALL_MEMBER + 1)
    if len(data) > MAX_SMALL_MEMBER:
        raise CorruptFileError(shown, f"member {info.filename} is larger than allowed")
    return data


def member_probe(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, container: FileProbe
) -> FileProbe:
    """A probe of an embedded text member: its head and tail windows only."""
    with zf.open(info) as fh:
        head = fh.read(WINDOW)
        tail = head[-WINDOW:]
        if info.file_size > len(head):
            fh.seek(max(len(head), info.file_size - WINDOW))
            tail = fh.read(WINDOW)
    return replace(container, display_path=f"{container.display_path}!/{info.filename}",
                   size=info.file_size, head=head, tail=tail, zip_members=None)
