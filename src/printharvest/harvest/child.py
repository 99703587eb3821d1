"""Child processes that read untrusted files: memory caps, dying with the parent, ending.

The watch service's harvest workers and the sandbox for the lab's own connectors both run
code on untrusted input in a child process; both use these, so a cap or an ending behaves the
same in either.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from typing import Any

STARTUP_TIMEOUT = 120.0
"""Seconds a new child may take to load connectors before it is replaced."""


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space (no-op for 0, or where the OS has no rlimits)."""
    if megabytes <= 0:
        return
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the time limit still applies
        return
    limit = megabytes << 20
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def exit_with_parent() -> None:
    """Run in a thread of the child: end the child when its parent has gone."""
    parent = os.getppid()
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


def kill_child(proc: subprocess.Popen[Any]) -> None:
    """End the child now (it may be stuck in a hostile file) and close its input."""
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()


def stop_child(proc: subprocess.Popen[Any]) -> None:
    """Ask the child to finish (end of input), then make sure it is gone."""
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        kill_child(proc)
