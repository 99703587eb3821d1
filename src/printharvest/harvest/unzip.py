"""Safe extraction of zip containers (a job zipped by the technician).

Members are written into a private temporary folder; names that climb out (``../x``,
absolute paths), symlinks, and archives that would expand past the limits are refused with
a one-line reason.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from printharvest.connectors.zipped import MAX_RATIO
from printharvest.exceptions import CorruptFileError

MAX_TOTAL_BYTES = 8 << 30
MAX_MEMBERS = 100_000


@dataclass(frozen=True)
class ExtractedMember:
    """A member written to disk, and its name inside the zip."""

    path: Path
    name: str


def extract_zip(archive: Path, shown: str, target: Path) -> tuple[list[ExtractedMember], list[str]]:
    """Extract regular members of ``archive`` into ``target``.

    Returns the extracted members and one-line problems for members that were refused.
    Raises CorruptFileError when the archive as a whole cannot be used.
    """
    problems: list[str] = []
    members: list[ExtractedMember] = []
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptFileError(shown, f"not a readable zip ({type(exc).__name__})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise CorruptFileError(shown, f"zip has {len(infos)} members, more than {MAX_MEMBERS}")
        compressed = sum(i.compress_size for i in infos) or 1
        declared = sum(i.file_size for i in infos)
        if declared > MAX_TOTAL_BYTES or (declared / compressed > MAX_RATIO and declared > 1 << 20):
            raise CorruptFileError(shown, "zip expands far beyond its size (zip bomb?)")
        written = 0
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            pure = PurePosixPath(name)
            if pure.is_absolute() or ".." in pure.parts or ":" in pure.parts[0]:
                problems.append(f"{shown}!/{name}: unsafe member name, skipped")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                problems.append(f"{shown}!/{name}: symbolic link, skipped")
                continue
            if pure.parts[0] == "__MACOSX" or pure.name.startswith("."):
                continue
            destination = target.joinpath(*pure.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, destination.open("wb") as dst:
                    written += _copy_capped(src, dst, MAX_TOTAL_BYTES - written)
            except CorruptFileError:
                raise CorruptFileError(shown, "zip expands past the size limit") from None
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
                    zlib.error) as exc:
                problems.append(f"{shown}!/{name}: cannot extract ({type(exc).__name__})")
                destination.unlink(missing_ok=True)
                continue
            members.append(ExtractedMember(destination, name))
    return members, problems


def _copy_capped(src: object, dst: object, budget: int) -> int:
    copied = 0
    read = src.read  # type: ignore[attr-defined]
    write = dst.write  # type: ignore[attr-defined]
    while chunk := read(1 << 20):
        copied += len(chunk)
        if copied > budget:
            raise CorruptFileError("zip", "over budget")
        write(chunk)
    return copied

