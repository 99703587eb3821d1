"""Owner-only files and folders: the home, the store, logs and exports hold local paths and
case keys (which may carry patient names), so nobody else on the machine may read them."""

from __future__ import annotations

import contextlib
import logging.handlers
import os
from pathlib import Path
from typing import IO, Any

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) if needed; a folder created here is 0700."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)


def open_private(path: Path, mode: str = "wb", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` with the file created 0600 (write and append modes)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    if "x" in mode:
        flags |= os.O_EXCL
    descriptor = os.open(path, flags, PRIVATE_FILE)
    return open(descriptor, mode.replace("x", "w"), **kwargs)


def create_private(path: Path) -> None:
    """Create an empty ``path`` 0600 unless it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files (also those made at each rollover) are 0600."""

    def _open(self) -> Any:
        return open_private(Path(self.baseFilename), "a", encoding=self.encoding,
                            errors=self.errors)
