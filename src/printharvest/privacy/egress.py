"""The PHI firewall: the one gate every byte that leaves the lab passes.

Export files (psv, xlsx, JSON, the case sheet), HTTP request bodies and headers to the
registry all go through :func:`release`. It refuses (EgressError, nothing leaves) when the
bytes hold:

- a name the lab's disk knows but the registry must not: case keys, file and folder names,
  file stems, printer job / object names and printer serials of the cases involved (an
  :class:`EgressGuard` collects them from the cases' records);
- anything that looks like a local path (``/home/...``, ``C:\\...``, ``\\\\server\\share``) or
  a job file name (``something.gcode``, ``.stl``, ``.3mf``, ``.dcm`` ...).

Zip containers (xlsx) are opened and the text of every member is scanned; JSON is also scanned after
decoding so escapes cannot hide a name. Free text the data manager did not type never gets
this far: :func:`printharvest.registry.values.element_values` leaves harvested text out of
clinical text elements.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from printharvest.cases.model import Case
from printharvest.dictionary.elements import LAB_PREFIX
from printharvest.exceptions import EgressError

MIN_TOKEN = 3
"""Shorter names (``a``, ``01``) would match ordinary values; they cannot identify anyone."""

_PATH = re.compile(
    r"(?<![\w.:/])/(?:[\w.\- ]+/)+[\w.\-]+"       # POSIX absolute path, two parts or more
    r"|\b[A-Za-z]:[\\/][^\s\"'<>|]*"              # Windows drive path
    r"|\\\\[\w.\-]+\\[^\s\"'<>|]+"                # UNC share
)
_TAG = re.compile(r"<[^>]*>")
_JOB_FILE = re.compile(
    r"[\w\-]\.(?:gcode|bgcode|3mf|stl|obj|ply|glb|gltf|amf|step|stp|dcm|dicom|nii|"
    r"form|ctb|sl1|pwmx|makerbot|zip)\b", re.IGNORECASE)


def _is_generic(name: str) -> bool:
    return len(name) < MIN_TOKEN or (name.isdigit() and len(name) <= 4)


@dataclass
class EgressGuard:
    """The names that must not leave with a set of cases."""

    forbidden: set[str] = field(default_factory=set)
    local_roots: tuple[PurePath, ...] = ()

    @classmethod
    def for_cases(cls, cases: Iterable[Case], local_roots: Iterable[Path] = ()) -> EgressGuard:
        """A guard for ``cases``; ``local_roots`` (the home, inboxes) are the lab's own folders,
        whose names are not job names (paths themselves are refused anyway)."""
        guard = cls(local_roots=tuple(PurePath(p) for p in local_roots))
        for case in cases:
            guard.add_case(case)
        return guard

    def allow(self, words: Iterable[str]) -> None:
        """Never treat these as names: the dictionary's own vocabulary (a folder called
        ``abdomen`` does not make the allowed value ``abdomen`` identifying)."""
        self.forbidden -= {w.lower() for w in words}

    def add_name(self, name: str | None) -> None:
        """Forbid one name (ignored when too short or generic)."""
        if name is None:
            return
        name = name.strip()
        if not _is_generic(name):
            self.forbidden.add(name.lower())

    def add_path(self, path: str) -> None:
        """Forbid the names along a local path below the lab's own roots (file, stems, folders)."""
        own = {part for root in self.local_roots for part in root.parts}
        for part in path.replace("!/", "/").replace("\\", "/").split("/"):
            if not part or part in own:
                continue
            self.add_name(part)
            stem = part
            while "." in stem.strip("."):
                stem = stem.rsplit(".", 1)[0]
                self.add_name(stem)

    def add_case(self, case: Case) -> None:
        """Forbid the case key and every name its records and provenance carry."""
        self.add_name(case.case_key)
        for record in case.records:
            self.add_path(record.source.path)
            if record.printer is not None:
                self.add_name(record.printer.serial)
            for part in record.parts:
                self.add_name(part.name)
        for name, value in case.fields.items():
            if value.provenance.path:
                self.add_path(value.provenance.path)
            if name.startswith(LAB_PREFIX):
                # the lab's own fields never leave: their words are refused like file names
                for word in value.value if isinstance(value.value, list) else [value.value]:
                    if isinstance(word, str):
                        self.add_name(word)


def _texts(data: bytes) -> list[str]:
    """Every readable view of ``data``: the text itself, unescaped, JSON-decoded, zip members."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [archive.read(info) for info in archive.infolist()]
        except (zipfile.BadZipFile, OSError) as exc:
            raise EgressError(f"refused: an unreadable container ({exc})") from exc
        # the container's own XML structure (part names, namespaces) is not content: scan the
        # text between the tags, where every cell value and document property lives
        return [text for member in members
                for text in _texts(_TAG.sub(" ", member.decode("utf-8", "replace")).encode())]
    text = data.decode("utf-8", errors="replace")
    views = [text, html.unescape(text)]
    with contextlib.suppress(ValueError):
        views.append("\n".join(_strings(json.loads(text))))
    return views


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _contains(text: str, token: str) -> bool:
    start = 0
    while True:
        found = text.find(token, start)
        if found < 0:
            return False
        end = found + len(token)
        before = text[found - 1] if found else " "
        after = text[end] if end < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            return True
        start = found + 1


def release(data: bytes, guard: EgressGuard, what: str) -> bytes:
    """Return ``data`` unchanged if it may leave; EgressError (naming ``what``) otherwise.

    Every export writer and every HTTP request to the registry calls this on the exact bytes
    it is about to write or send.
    """
    for text in _texts(data):
        lowered = text.lower()
        for token in guard.forbidden:
            if _contains(lowered, token):
                raise EgressError(f"refused {what}: it holds a file, folder or job name or a "
                                  "case key of the lab's own files")
        if _PATH.search(text):
            raise EgressError(f"refused {what}: it holds something that looks like a local path")
        if _JOB_FILE.search(text):
            raise EgressError(f"refused {what}: it holds something that looks like a file name")
    return data


def check_values(values: dict[str, Any], guard: EgressGuard, what: str) -> None:
    """:func:`release` for each value on its own, so a refusal names the element that holds it."""
    for name, value in values.items():
        release(json.dumps(value, default=str, ensure_ascii=False).encode("utf-8"), guard,
                f"{what}, element {name}")


def release_headers(headers: dict[str, str], guard: EgressGuard, what: str) -> dict[str, str]:
    """:func:`release` for HTTP headers (names and values, as they go on the wire)."""
    wire = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    release(wire.encode("utf-8"), guard, what)
    return headers


__all__ = ["EgressGuard", "check_values", "release", "release_headers"]
