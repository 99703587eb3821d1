"""Child processes that read untrusted files: limits, frames, dying with the parent, ending.

The watch service's harvest workers, the sandbox for the lab's own connectors and the bounded
harvest of ``inspect`` and ``ingest`` (:class:`Forked`) all run code on untrusted input in a
child process; all use these, so a limit, a cap or an ending behaves the same in each.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import signal
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO, Any, NoReturn

STARTUP_TIMEOUT = 120.0
"""Seconds a new child may take to load connectors before it is replaced."""
MAX_FOLDER_FACTOR = 10.0
"""A folder's time limit is at most this many times the per-file limit."""
_HEADER = struct.Struct(">I")
MAX_FRAME = 256 << 20
"""Largest answer accepted from a child (a log with very many jobs stays well below)."""


def harvest_limit(timeout: float, files: int) -> float:
    """Seconds one harvest of ``files`` files may take, ``timeout`` being one file's.

    One file gets ``timeout``; n files ``timeout * (1 + (n - 1) / 10)``, at most ten times
    ``timeout`` (a DICOM series of hundreds of slices is read in one go, yet a hostile file
    in it is caught in bounded time, after which its files are tried one by one).
    """
    return timeout * min(MAX_FOLDER_FACTOR, 1.0 + (max(files, 1) - 1) / 10)


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    """Write one length-prefixed frame."""
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes | None:
    """Read one length-prefixed frame; None at end of stream or on a bad frame."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        return None
    payload = stream.read(size)
    return payload if len(payload) == size else None


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


CAN_FORK = hasattr(os, "fork")
"""Where there is no fork (Windows), :class:`Forked` work runs in the calling process."""


class Forked:
    """A forked copy of this process running ``work`` under the memory cap.

    The copy starts in milliseconds with everything already loaded (connectors, rules), so a
    command can afford one per run. ``work`` gets a function that sends one frame to the
    parent; the parent takes the frames with :meth:`next` under its own time limits and
    :meth:`kill` s the copy when one runs out. Whatever the work does, the copy ends with
    ``os._exit``: it never returns into the command, runs no exit handlers and flushes none
    of the parent's buffers; what it prints goes nowhere (it could hold file content).
    """

    def __init__(self, work: Callable[[Callable[[bytes], None]], None], memory_mb: int) -> None:
        read_fd, write_fd = os.pipe()
        # Objects that exist now stay out of the copy's garbage collection: a collection
        # would write to every one of them and so copy every page of the heap.
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            gc.unfreeze()
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:  # pragma: no cover - the copy's side, measured through its frames
            _run_copy(read_fd, write_fd, work, memory_mb)
        gc.unfreeze()
        os.close(write_fd)
        self.pid = pid
        self.code: int | None = None
        self._frames: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, args=(os.fdopen(read_fd, "rb"),), daemon=True,
                         name=f"forked-{pid}").start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:
            while (frame := read_frame(stream)) is not None:
                self._frames.put(frame)
        self._frames.put(None)

    def next(self, timeout: float) -> bytes | str:
        """The next frame, or why there is none: ``"timeout"`` or ``"died"`` (it ended)."""
        try:
            frame = self._frames.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return "timeout"
        return "died" if frame is None else frame

    def kill(self) -> None:
        """End the copy now (it may be stuck in a hostile file) and reap it."""
        if self.code is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        self.wait()

    def wait(self) -> int:
        """Reap the copy; its exit code (negative: the signal that ended it)."""
        if self.code is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.code = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                self.code = -1
        return self.code


def _run_copy(read_fd: int, write_fd: int, work: Callable[[Callable[[bytes], None]], None],
              memory_mb: int) -> NoReturn:  # pragma: no cover - runs in the forked copy
    code = 0
    try:
        os.close(read_fd)
        # Ctrl-C ends the copy at once; the command, which gets it too, says so.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        # The watch on the parent starts before the cap: under a cap the copy is already
        # over, the new thread cannot even start and Thread.start() waits for it forever.
        threading.Thread(target=exit_with_parent, daemon=True).start()
        limit_memory(memory_mb)
        out = os.fdopen(write_fd, "wb", buffering=0)
        work(lambda payload: write_frame(out, payload))
    except BaseException:  # whatever happened, the copy must not return into the command
        code = 70
    finally:
        os._exit(code)
