"""The sandbox process: imports third-party connector modules and runs their calls.

``python -m printharvest.harvest.sandbox_child`` reads pickled requests from stdin (from the
printharvest process that started it) and answers each with one JSON frame on a private copy
of stdout; see :mod:`printharvest.harvest.sandbox` for why and how it is bounded. Requests:

* ``("init", memory_mb)``: cap the address space;
* ``("load", route, target)``: import one entry point or drop-in file; answer what it added
  (connectors with their attributes, pollers, load failures);
* ``("detect", id, probe, context)``: the connector's checked score, or the problem;
* ``("harvest", id, (probes, collective), context)``: records as contract JSON and per-file
  errors, or one error.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import threading
from pathlib import Path
from typing import IO, Any

from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError, HarvestError
from printharvest.harvest.child import exit_with_parent, limit_memory, read_frame, write_frame
from printharvest.harvest.plugins import (
    BUILTIN_MODULES,
    PluginHost,
    PluginSource,
    records_of,
    score_of,
)
from printharvest.models import HarvestRecord


class _Child:
    """The child's own plugin host (third-party modules only; built-ins on first nesting)."""

    def __init__(self) -> None:
        self.host = PluginHost()
        self.context: tuple[str | None, bytes | None] | None = None
        self.builtins = False

    def handle(self, message: tuple[Any, ...]) -> dict[str, Any]:
        """The JSON-able answer to one request."""
        op = message[0]
        if op == "init":
            limit_memory(int(message[1]))
            return {"ok": True}
        if op == "load":
            return self.load(PluginSource(str(message[1]), str(message[2])))
        connector_id, payload, context = message[1], message[2], message[3]
        self.bind(context)
        loaded = self.host.connectors.get(connector_id)
        if loaded is None:
            return {"problem": f"connector {connector_id} is not loaded", "error": {
                "kind": "HarvestError", "path": "", "reason": "connector not loaded"}}
        if op == "detect":
            return detect(loaded.connector, payload)
        probes, collective = payload
        return harvest(loaded.connector, probes, collective)

    def load(self, source: PluginSource) -> dict[str, Any]:
        """Import one source; what it added (connectors, pollers, failures)."""
        before = set(self.host.connectors)
        pollers_before = set(self.host.pollers)
        failures_before = len(self.host.failures)
        self.host.load_source(source)
        added = [c for i, c in self.host.connectors.items() if i not in before]
        return {
            "connectors": [{"id": c.id, "label": c.connector.label,
                            "version": c.connector.version,
                            "patterns": list(c.connector.patterns),
                            "collective": c.connector.collective,
                            "class": type(c.connector).__name__, "where": c.origin}
                           for c in added],
            "pollers": sorted(set(self.host.pollers) - pollers_before),
            "failures": [{"route": f.route, "origin": f.origin, "reason": f.reason}
                         for f in self.host.failures[failures_before:]],
        }

    def bind(self, context: tuple[str | None, bytes | None]) -> None:
        """Hand the connectors the parent's context (rules folder, salt) when it changed."""
        if context == self.context:
            return
        self.context = context
        rules_dir, salt = context
        salt_bytes = salt or b""
        self.host.bind(None if rules_dir is None else Path(rules_dir), lambda: salt_bytes)
        for loaded in self.host.connectors.values():
            # Nested files may need a built-in connector: load them on first use only.
            loaded.connector.context = type(loaded.connector.context)(
                rules_dir=loaded.connector.context.rules_dir,
                salt=loaded.connector.context.salt, harvest_nested=self.nested)

    def nested(self, probe: FileProbe, exclude: str) -> list[HarvestRecord]:
        """Harvest a file found inside another, built-ins loaded on first use."""
        if not self.builtins:
            self.builtins = True
            for module in BUILTIN_MODULES:
                self.host._import_and_register(module, "built-in", module)
            context, self.context = self.context, None
            assert context is not None
            self.bind(context)
        return self.host.harvest_nested(probe, exclude)


def detect(connector: Any, probe: FileProbe) -> dict[str, Any]:
    """The checked score, or what went wrong (one line, no content)."""
    try:
        value = connector.detect(probe)
    except MemoryError:
        return {"score": 0.0, "problem": "detect ran out of memory"}
    except Exception as exc:
        return {"score": 0.0, "problem": f"detect raised {type(exc).__name__}"}
    score, problem = score_of(value)
    return {"score": score, "problem": problem}


def harvest(connector: Any, probes: list[FileProbe], collective: bool) -> dict[str, Any]:
    """Checked records as contract JSON and per-file errors, or one error."""
    first = probes[0].display_path
    errors: list[HarvestError] = []
    try:
        if collective:
            raw, errors = connector.harvest_files(probes)
        else:
            raw = connector.harvest(probes[0])
        records = records_of(connector.id, first, raw)
    except HarvestError as exc:
        return {"error": _error(exc)}
    except MemoryError:
        return {"error": _error(CorruptFileError(first, f"connector {connector.id}: too large "
                                                        "to read (memory cap reached)"))}
    except Exception as exc:  # the author's bug: name it, on one line
        return {"error": _error(HarvestError(
            first, f"connector {connector.id} failed ({type(exc).__name__})"))}
    return {"records": [r.to_json_dict() for r in records],
            "errors": [_error(e) for e in errors if isinstance(e, HarvestError)]}


def _error(exc: HarvestError) -> dict[str, str]:
    return {"kind": type(exc).__name__, "path": exc.path, "reason": exc.reason}


def main() -> int:
    """Answer requests until stdin closes."""
    protocol: IO[bytes] = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # what connectors print goes to stderr (discarded by the parent)
    sys.stdout = sys.stderr
    threading.Thread(target=exit_with_parent, daemon=True).start()
    child = _Child()
    stdin = sys.stdin.buffer
    while True:
        frame = read_frame(stdin)
        if frame is None:
            return 0
        message = pickle.loads(frame)  # from the printharvest process that started us
        try:
            answer = child.handle(message)
        except MemoryError:
            answer = {"problem": "ran out of memory", "error": {
                "kind": "CorruptFileError", "path": "", "reason": "ran out of memory"}}
        write_frame(protocol, json.dumps(answer).encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main())
