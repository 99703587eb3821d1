"""What one in-process CLI run gave back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CliResult:
    """Exit code and captured output of one CLI run."""

    code: int
    out: str
    err: str
