"""The sandbox: third-party connectors imported and run in one separate, bounded process.

A lab's drop-in connectors and installed entry-point packages are code printharvest has never
seen. So that none of them can hang or exhaust a command (``inspect``, ``ingest``,
``connectors list``/``test``, ``doctor``, the watch workers), the plugin host imports them
in a child process (``python -m printharvest.harvest.sandbox_child``) and keeps a proxy
connector for each connector the child reports:

* each module is imported under ``connector_load_timeout_seconds``; one that takes longer is
  recorded as a load failure naming it, the child is killed, and the others load in a fresh
  child;
* each ``detect`` and ``harvest`` call runs under ``harvest_timeout_seconds``; a call that runs
  longer kills the child (a fresh one starts on the next call) and becomes a one-line reason
  naming the connector. A connector whose ``detect`` ran out of time three times in a row
  is not asked again in this run (it would cost the limit on every file);
* the child's address space is capped at ``watch.worker_memory_mb``, with the same rlimit
  code as the watch workers (:func:`printharvest.harvest.child.limit_memory`).

Protocol: length-prefixed frames over the child's stdin/stdout. The parent sends pickles (the
probe, with its head and tail bytes); the child answers with JSON only, so nothing the
untrusted side writes is ever unpickled. Anything a connector prints goes to the child's
stderr, which is discarded (it could carry file content).

Pollers declared by a third-party module are imported into the calling process once the
sandbox has imported the module within the limit: a poll already runs in its own thread with
request timeouts (:mod:`printharvest.pollers.service`).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic

from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import (
    CorruptFileError,
    HarvestError,
    UnsupportedFileError,
)
from printharvest.harvest.child import (
    STARTUP_TIMEOUT,
    kill_child,
    read_frame,
    stop_child,
    write_frame,
)
from printharvest.models import HarvestRecord

if TYPE_CHECKING:
    from printharvest.harvest.plugins import PluginHost, PluginSource

MAX_DETECT_TIMEOUTS = 3
"""A connector whose detect runs out of time this many times in a row is not asked again
(until the process restarts): a detect that always hangs would cost the limit per file."""
ERROR_KINDS: dict[str, type[HarvestError]] = {
    cls.__name__: cls
    for cls in (HarvestError, CorruptFileError, UnsupportedFileError)
}


@dataclass(frozen=True)
class Limits:
    """How long third-party code may take and how much memory it may use."""

    timeout: float
    """Seconds for one ``detect`` or ``harvest`` call (``harvest_timeout_seconds``)."""
    load_timeout: float
    """Seconds to import one module (``connector_load_timeout_seconds``)."""
    memory_mb: int
    """Address-space cap of the sandbox process (``watch.worker_memory_mb``; 0: none)."""


class _Child:
    """One running sandbox process and the thread that reads its answers."""

    def __init__(self) -> None:
        env = dict(os.environ)
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "printharvest.harvest.sandbox_child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, start_new_session=os.name == "posix")
        self.answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True,
                         name=f"sandbox-{self.proc.pid}").start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        with stream:
            while True:
                frame = read_frame(stream)
                if frame is None:
                    break
                try:
                    message = json.loads(frame)
                except ValueError:
                    break
                if isinstance(message, dict):
                    self.answers.put(message)
        self.answers.put(None)

    def ask(self, message: tuple[Any, ...], timeout: float) -> dict[str, Any] | str:
        """Send ``message``; the answer, or why there is none (``"timeout"``, ``"died"``)."""
        assert self.proc.stdin is not None
        try:
            write_frame(self.proc.stdin, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            return "died"
        try:
            answer = self.answers.get(timeout=timeout)
        except queue.Empty:
            return "timeout"
        return "died" if answer is None else answer

    def exit_code(self) -> int | None:
        """The process's exit code once it has ended (None if it is still running)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.proc.wait(timeout=2)
        return None

    def kill(self) -> None:
        """End the process now (it may be stuck in a connector)."""
        kill_child(self.proc)

    def stop(self) -> None:
        """Ask the process to finish (end of input), then make sure it is gone."""
        stop_child(self.proc)


def _stop_child(holder: list[_Child]) -> None:
    for child in holder:
        child.stop()
    holder.clear()


class Sandbox:
    """Runs the third-party connectors of one plugin host in a bounded child process."""

    def __init__(self, sources: Sequence[PluginSource], limits: Limits) -> None:
        self.sources = list(sources)
        self.limits = limits
        self._good: list[PluginSource] = []
        self._holder: list[_Child] = []  # the running child, if any (a list for finalize)
        self._lock = threading.RLock()
        self._timeouts: dict[str, int] = {}  # detect timeouts in a row, per connector
        self._rules_dir: Path | None = None
        self._salt: Callable[[], bytes] | None = None
        self._salt_bytes: bytes | None = None
        self._waiting: Callable[[bool], None] | None = None
        weakref.finalize(self, _stop_child, self._holder)

    # -- loading ------------------------------------------------------------------------

    def load_into(self, host: PluginHost) -> None:
        """Import every source in the child and give ``host`` a proxy for each connector."""
        for source in self.sources:
            answer = self._load(source)
            if isinstance(answer, str):
                host.fail(source.route, source.origin, answer)
                continue
            self._good.append(source)
            for failure in answer.get("failures", []):
                host.fail(str(failure["route"]), str(failure["origin"]), str(failure["reason"]))
            for info in answer.get("connectors", []):
                proxy = _proxy_class(self, info)()
                host.add_connector(proxy, source.route, str(info["where"]))
            if answer.get("pollers"):
                # Imported within the limit in the child: safe to import here for the poll
                # service, which runs pollers in threads with their own timeouts.
                host.load_source(source, pollers_only=True)

    def _load(self, source: PluginSource) -> dict[str, Any] | str:
        with self._lock:
            child = self._child()
            if child is None:
                return "the connector process could not start"
            answer = child.ask(("load", source.route, source.target), self.limits.load_timeout)
            if isinstance(answer, str):
                code = child.exit_code() if answer == "died" else None
                self._discard()
                if answer == "timeout":
                    return (f"import took longer than {self.limits.load_timeout:g} s and was "
                            "stopped")
                return f"import ended the connector process (exit code {code})"
            return answer

    def _child(self) -> _Child | None:
        """The running child, started (and given the good sources again) when needed."""
        if self._holder:
            return self._holder[0]
        try:
            child = _Child()
        except OSError:
            return None
        self._holder.append(child)
        # Starting Python and printharvest is not the connector's time: the watch workers'
        # startup allowance applies, not the per-module import limit.
        if isinstance(child.ask(("init", self.limits.memory_mb), STARTUP_TIMEOUT), str):
            self._discard()
            return None
        for source in self._good:
            answer = child.ask(("load", source.route, source.target), self.limits.load_timeout)
            if isinstance(answer, str):  # it loaded before; now it does not: give up on it
                self._discard()
                self._good.remove(source)
                return self._child()
        return child

    def _discard(self) -> None:
        for child in self._holder:
            child.kill()
        self._holder.clear()

    def in_copy(self, waiting: Callable[[bool], None]) -> None:
        """In a forked copy of this process (:mod:`printharvest.harvest.bounded`): leave the
        running child to the process that started it (its answers go to that process's
        reader thread; a fresh child starts here on the next call), and say through
        ``waiting`` when a call starts (True) and ends (False): a call is bounded by these
        limits already, and is not the copy's own time."""
        self._holder.clear()
        self._waiting = waiting

    def longest_call(self) -> float:
        """The most one call may take: starting a child and importing every module in it,
        then the call itself."""
        return (STARTUP_TIMEOUT + len(self.sources) * self.limits.load_timeout
                + self.limits.timeout)

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            _stop_child(self._holder)

    # -- calls --------------------------------------------------------------------------

    def bind(self, rules_dir: Path | None, salt: Callable[[], bytes]) -> None:
        """The lab's context, handed to the child with each call (the salt when first needed)."""
        self._rules_dir = rules_dir
        self._salt = salt
        self._salt_bytes = None

    def _context(self) -> tuple[str | None, bytes | None]:
        if self._salt_bytes is None and self._salt is not None:
            self._salt_bytes = self._salt()
        return (None if self._rules_dir is None else str(self._rules_dir), self._salt_bytes)

    def _call(self, op: str, connector_id: str, payload: Any) -> dict[str, Any] | str:
        with self._lock:
            if self._waiting is None:
                return self._call_now(op, connector_id, payload)
            self._waiting(True)
            try:
                return self._call_now(op, connector_id, payload)
            finally:
                self._waiting(False)

    def _call_now(self, op: str, connector_id: str, payload: Any) -> dict[str, Any] | str:
        with self._lock:
            child = self._child()
            if child is None:
                return f"connector {connector_id}: the connector process could not start"
            answer = child.ask((op, connector_id, payload, self._context()), self.limits.timeout)
            if isinstance(answer, str):
                code = child.exit_code() if answer == "died" else None
                self._discard()
                if answer == "timeout":
                    return (f"connector {connector_id}: {op} took longer than "
                            f"{self.limits.timeout:g} s and was stopped")
                return f"connector {connector_id}: {op} died (exit code {code})"
            return answer

    def detect(self, connector_id: str, probe: FileProbe) -> float:
        """The connector's score for ``probe``, or DetectFailure with the reason."""
        from printharvest.harvest.plugins import DetectFailure

        if self._timeouts.get(connector_id, 0) >= MAX_DETECT_TIMEOUTS:
            raise DetectFailure(f"detect took longer than {self.limits.timeout:g} s "
                                f"{MAX_DETECT_TIMEOUTS} times in a row: not asked again "
                                "in this run")
        answer = self._call("detect", connector_id, probe)
        if isinstance(answer, str):
            if "took longer" in answer:
                self._timeouts[connector_id] = self._timeouts.get(connector_id, 0) + 1
            raise DetectFailure(answer.split(": ", 1)[1])
        self._timeouts.pop(connector_id, None)
        if answer.get("problem"):
            raise DetectFailure(str(answer["problem"]))
        return float(answer.get("score", 0.0))

    def harvest(self, connector_id: str, probes: Sequence[FileProbe],
                collective: bool) -> tuple[list[HarvestRecord], list[HarvestError]]:
        """Records and per-file errors, or a HarvestError naming the connector."""
        first = probes[0].display_path
        answer = self._call("harvest", connector_id, (list(probes), collective))
        if isinstance(answer, str):
            raise HarvestError(first, answer)
        if "error" in answer:
            raise _error(answer["error"])
        try:
            records = [HarvestRecord.model_validate(r) for r in answer.get("records", [])]
        except pydantic.ValidationError as exc:  # a record changed after it was made
            from printharvest.harvest.plugins import validation_summary

            raise HarvestError(first, f"connector {connector_id} produced an invalid record: "
                                      f"{validation_summary(exc)}") from exc
        return records, [_error(e) for e in answer.get("errors", [])]


def _error(data: dict[str, Any]) -> HarvestError:
    kind = ERROR_KINDS.get(str(data.get("kind")), HarvestError)
    return kind(str(data.get("path", "")), str(data.get("reason", "failed")))


class SandboxedConnector(FileConnector):
    """A third-party connector seen from the host: every call goes to the sandbox."""

    sandbox: ClassVar[Sandbox]

    def detect(self, probe: FileProbe) -> float:
        """The child's score, under the time limit."""
        return self.sandbox.detect(self.id, probe)

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """The child's records, under the time and memory limits."""
        records, _ = self.sandbox.harvest(self.id, [probe], False)
        return records

    def harvest_collection(self, probes: Sequence[FileProbe]) -> list[HarvestRecord]:
        """A collective connector's records for several files."""
        records, _ = self.sandbox.harvest(self.id, probes, True)
        return records

    def harvest_files(
        self, probes: Sequence[FileProbe]
    ) -> tuple[list[HarvestRecord], list[HarvestError]]:
        """A collective connector's records and per-file failures."""
        return self.sandbox.harvest(self.id, probes, True)


def _proxy_class(sandbox: Sandbox, info: dict[str, Any]) -> type[SandboxedConnector]:
    attributes = {
        "sandbox": sandbox,
        "id": str(info["id"]),
        "label": str(info["label"]),
        "version": str(info["version"]),
        "patterns": tuple(str(p) for p in info["patterns"]),
        "collective": bool(info["collective"]),
        "__doc__": f"Sandboxed proxy of {info['where']}.",
    }
    return type(f"Sandboxed_{info['class']}", (SandboxedConnector,), attributes)
