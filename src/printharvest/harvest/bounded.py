"""``inspect`` and ``ingest`` harvest under the watch workers' limits, in a forked copy.

A built-in connector is part of printharvest, yet a crafted file may still make one hang or
eat memory (a pathological mesh, a huge member). So the commands that harvest files named
on the command line read them the way ``watch`` does: in a child process with the address
space capped at ``watch.worker_memory_mb`` and a time limit from ``harvest_timeout_seconds``
(:func:`~printharvest.harvest.child.harvest_limit`: per file, a folder of n files gets more,
within ten times one file's). The child is a fork of the command
(:class:`~printharvest.harvest.child.Forked`): it starts in milliseconds with the connectors
and rules already loaded.

1. Every input is harvested in one copy, exactly as in the command's own process (a folder's
   DICOM slices read as one series); the copy answers with the records as contract JSON.
2. When that copy runs out of time, dies or runs out of memory as a whole, the files are
   tried one by one in a fresh copy, each under one file's limit: a file that is stopped gets
   one line (``harvest took longer than 120 s and was stopped``) and the copy that follows
   takes the files after it, so one hostile file never costs the others.

Where there is no fork (Windows) the harvest runs in the command's own process, as before.
Third-party connectors keep their own sandbox: the copy starts one of its own on first use
(the command's is answered through a reader thread the copy does not have).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from printharvest.connectors.dicom.series import record_from_json, series_keys
from printharvest.exceptions import HarvestError
from printharvest.harvest.child import CAN_FORK, Forked, harvest_limit
from printharvest.harvest.harvester import (
    Grouping,
    HarvestedRecord,
    Harvester,
    HarvestOutcome,
    Listed,
)
from printharvest.harvest.sandbox import ERROR_KINDS

OUT_OF_MEMORY = "harvest ran out of memory"
Send = Callable[[bytes], None]
_Input = tuple[Path, list[Listed], list[HarvestError]]


class BoundedHarvester:
    """Harvests inputs like :meth:`Harvester.harvest_paths`, in a bounded forked copy."""

    def __init__(self, harvester: Harvester, timeout: float, memory_mb: int) -> None:
        self.harvester = harvester
        self.timeout = timeout
        """One file's limit in seconds (``harvest_timeout_seconds``)."""
        self.memory_mb = memory_mb
        """The copy's address-space cap (``watch.worker_memory_mb``; 0: none)."""

    def harvest_paths(
        self, paths: Iterable[Path], *, grouping: Grouping = "case"
    ) -> HarvestOutcome:
        """Every path's records and one-line errors, in the order of the paths."""
        paths = list(paths)
        if not CAN_FORK:
            return self.harvester.harvest_paths(paths, grouping=grouping)
        inputs: list[_Input] = [(path, *self.harvester.listing(path)) for path in paths]
        count = sum(len(files) for _, files, _ in inputs)
        parts: list[HarvestOutcome] = [HarvestOutcome() for _ in inputs]
        if count:
            whole = self._whole(inputs, grouping, harvest_limit(self.timeout, count))
            if isinstance(whole, list):
                parts = whole
            elif count == 1:
                path = next(p for _, files, _ in inputs for p, _ in files)
                parts = [HarvestOutcome(errors=[HarvestError(path, whole)]) if files else part
                         for (_, files, _), part in zip(inputs, parts, strict=True)]
            else:
                self._one_by_one(inputs, grouping, parts)
        outcome = HarvestOutcome()
        for (_, _, errors), part in zip(inputs, parts, strict=True):
            outcome.errors.extend(errors)  # what the walk found unreadable comes first
            outcome.extend(part)
        return outcome

    def _whole(
        self, inputs: Sequence[_Input], grouping: Grouping, limit: float
    ) -> list[HarvestOutcome] | str:
        """Every input harvested in one copy: its outcomes, or why the copy gave none."""
        def work(send: Send) -> None:
            self._detach(send)
            send(_guarded(lambda: {"parts": [
                encode_outcome(self.harvester.harvest_listed(files, grouping=grouping))
                for _, files, _ in inputs]}))

        copy = Forked(work, self.memory_mb)
        try:
            message = self._receive(copy, limit)
        finally:
            copy.kill()
        if isinstance(message, str):
            return message
        if "fatal" in message:
            return str(message["fatal"])
        try:
            parts = [decode_outcome(part) for part in message["parts"]]
        except (KeyError, TypeError, ValueError):  # a record that does not survive the trip
            return "harvest failed (unreadable answer)"
        return parts if len(parts) == len(inputs) else "harvest failed (unreadable answer)"

    def _one_by_one(
        self, inputs: Sequence[_Input], grouping: Grouping, parts: list[HarvestOutcome]
    ) -> None:
        """Each file on its own (in order), into its input's outcome in ``parts``.

        One copy takes the files in turn, answering each; a file that takes longer than one
        file's limit, or ends the copy, gets the reason, and a fresh copy takes the rest.
        """
        pending = [(index, listed) for index, (_, files, _) in enumerate(inputs)
                   for listed in files]
        while pending:
            batch = list(pending)

            def work(send: Send, batch: list[tuple[int, Listed]] = batch) -> None:
                self._detach(send)
                for _, listed in batch:
                    send(_guarded(partial(self._part, listed, grouping)))

            copy = Forked(work, self.memory_mb)
            try:
                for index, (path, _) in batch:
                    pending.pop(0)
                    message = self._receive(copy, self.timeout)
                    if isinstance(message, str):
                        parts[index].errors.append(HarvestError(path, message))
                        break
                    if "fatal" in message:
                        parts[index].errors.append(HarvestError(path, str(message["fatal"])))
                        continue
                    try:
                        parts[index].extend(decode_outcome(message["part"]))
                    except (KeyError, TypeError, ValueError):
                        parts[index].errors.append(
                            HarvestError(path, "harvest failed (unreadable answer)"))
            finally:
                copy.kill()

    def _receive(self, copy: Forked, limit: float) -> dict[str, Any] | str:
        """The copy's next answer as JSON, or the one-line reason it has none.

        ``limit`` seconds of the copy's own time: while it waits on its sandbox (the lab's
        connectors, bounded by the sandbox's own limits) the clock stops.
        """
        left, paused = limit, False
        sandbox = self.harvester.host.sandbox
        while True:
            started = time.monotonic()
            # while paused, the bound is only for a copy gone silent: the call bounds itself
            answer = copy.next(sandbox.longest_call() + 5.0 if paused and sandbox else left)
            if not paused:
                left -= time.monotonic() - started
            if answer == "timeout":
                return f"harvest took longer than {limit:g} s and was stopped"
            if isinstance(answer, str):
                copy.kill()
                return f"harvest died (exit code {copy.wait()})"
            try:
                message = json.loads(answer)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                return "harvest failed (unreadable answer)"
            if "waiting" not in message:
                return message
            paused = bool(message["waiting"])

    def _part(self, listed: Listed, grouping: Grouping) -> dict[str, Any]:
        return {"part": encode_outcome(self.harvester.harvest_listed([listed],
                                                                     grouping=grouping))}

    def _detach(self, send: Send) -> None:
        """In the copy: leave the command's sandbox process to the command, and say when
        the copy waits on its own (see :meth:`_receive`)."""
        sandbox = self.harvester.host.sandbox
        if sandbox is not None:
            sandbox.in_copy(lambda waiting: send(json.dumps({"waiting": waiting}).encode()))


def _guarded(answer: Callable[[], dict[str, Any]]) -> bytes:
    """The answer as a frame, or the reason there is none (the copy must always answer)."""
    try:
        return json.dumps(answer()).encode("utf-8")
    except MemoryError:
        return json.dumps({"fatal": OUT_OF_MEMORY}).encode("utf-8")
    except Exception as exc:  # a bug in the harvest itself: name it, on one line
        return json.dumps({"fatal": f"harvest failed ({type(exc).__name__})"}).encode("utf-8")


# -- records across processes ---------------------------------------------------------------


def encode_items(items: Iterable[HarvestedRecord]) -> list[dict[str, Any]]:
    """Records with their rule notes, contents and salted series keys, as JSON."""
    return [{"record": item.record.to_json_dict(), "rule_notes": item.rule_notes,
             "series_keys": series_keys(item.record), "contents": item.contents}
            for item in items]


def encode_errors(errors: Iterable[HarvestError]) -> list[dict[str, str]]:
    """One-line errors as JSON."""
    return [{"path": e.path, "reason": e.reason, "kind": type(e).__name__} for e in errors]


def encode_outcome(outcome: HarvestOutcome) -> dict[str, Any]:
    """A whole outcome as JSON (see :func:`decode_outcome`)."""
    return {"items": encode_items(outcome.items), "errors": encode_errors(outcome.errors),
            "files_seen": outcome.files_seen}


def decode_outcome(data: dict[str, Any]) -> HarvestOutcome:
    """The outcome :func:`encode_outcome` wrote."""
    items = [HarvestedRecord(record_from_json(item["record"], item.get("series_keys")),
                             dict(item.get("rule_notes") or {}), list(item.get("contents") or []))
             for item in data.get("items", [])]
    errors = [ERROR_KINDS.get(str(e.get("kind")), HarvestError)(
        str(e.get("path", "")), str(e.get("reason", "failed"))) for e in data.get("errors", [])]
    return HarvestOutcome(items=items, errors=errors, files_seen=int(data.get("files_seen", 0)))
