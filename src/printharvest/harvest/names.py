"""File names as they are on Linux (bytes), shown and judged safely.

A name need not be valid UTF-8 (Python hands such names over with surrogate escapes) and may
carry terminal escape sequences, newlines or bidi controls. Such text is never printed or
logged raw: :func:`shown` gives a one-line, escaped form. Names that are not UTF-8 and
symbolic links are not harvested, by ``ingest`` and ``watch`` alike, with the same words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

NOT_UTF8 = "the file name is not valid UTF-8: rename it to harvest it"
SYMLINK = "a symbolic link: links are not followed (put the file itself here)"

# C0 and C1 controls, DEL, line/paragraph separators and bidi overrides/isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def undecodable(name: str) -> bool:
    """True when ``name`` holds bytes that are not UTF-8 (surrogate-escaped by Python)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown(text: str) -> str:
    """``text`` safe for a terminal and a log line: bytes that are not UTF-8 as ``\\xNN``,
    control characters (escape sequences, newlines) as ``\\xNN`` / ``\\uNNNN``."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class SafeFormatter(logging.Formatter):
    """A log formatter that escapes each message (see :func:`shown`): one event, one line,
    and no escape sequence reaches whoever reads the log in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record with its message escaped."""
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg, safe.args = shown(record.getMessage()), None
        return super().format(safe)


class Notices:
    """Say each skipped name once (bounded memory), through a callback."""

    def __init__(self, limit: int = 10_000) -> None:
        self.said: set[str] = set()
        self.limit = limit
        self.callback: Callable[[str], None] = lambda text: logging.getLogger(
            "printharvest.watch").warning("%s", text)

    def once(self, path: str, reason: str) -> None:
        """Report ``path`` (escaped) with ``reason`` the first time only."""
        if path in self.said:
            return
        if len(self.said) >= self.limit:
            self.said.clear()
        self.said.add(path)
        self.callback(f"skipped {shown(path)}: {reason}")
