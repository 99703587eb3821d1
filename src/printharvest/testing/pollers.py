"""Contract checks for printer pollers, against a recorded HTTP exchange.

:func:`check_poller_contract` checks one poller class:

* ``id`` (lower-case letters, digits, ``_ . -``), ``label`` and ``version`` are set and
  ``poll`` is implemented (the plugin host's own rules);
* one poll against the recorded exchange (:mod:`printharvest.testing.replay`) returns a
  :class:`~printharvest.pollers.PollBatch` whose records are HarvestRecords naming this poller
  in ``source.connector``, with ``source.path`` ``poller://<printer>/<job id>``, distinct
  identities, and a ``str`` (or ``None``) cursor; at least ``expect_records`` records;
* a printer that answers HTTP 500, and one that cannot be reached, give a
  :class:`~printharvest.exceptions.PollerError` (one line), never another exception or a hang.

It returns a :class:`PollerReport` and raises :class:`AssertionError` listing every problem.
:func:`poll_recorded` is the single poll ``printharvest connectors test --poller`` runs.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printharvest.exceptions import PollerError
from printharvest.harvest.plugins import _ID_PATTERN
from printharvest.models import HarvestRecord
from printharvest.pollers.base import PollBatch, PrinterPoller
from printharvest.testing.replay import Exchange, replay_server

DEFAULT_SETTINGS: dict[str, Any] = {
    "id": "", "name": "recorded", "url": None, "host": None, "port": None, "model": None,
    "serial": None, "interval_seconds": 300.0, "timeout_seconds": 5.0, "enabled": True,
    "secrets": {}, "options": {},
}


@dataclass
class PollerReport:
    """What a poller contract check saw."""

    poller_id: str
    records: list[HarvestRecord] = field(default_factory=list)
    cursor: str | None = None
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def settings_for(poller: type[PrinterPoller], exchange: Exchange, url: str) -> dict[str, Any]:
    """The printer settings a recorded poll runs with (as the service would build them)."""
    settings = {**DEFAULT_SETTINGS, "id": poller.id, **exchange.settings, "url": url}
    return settings


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def poll_recorded(poller: type[PrinterPoller], exchange_file: Path,
                  since: str | None = None) -> tuple[PollBatch, list[str]]:
    """One poll of ``poller`` against the recorded exchange; the batch and requests made."""
    exchange = Exchange.load(exchange_file)
    with replay_server(exchange) as url, _env(exchange.env):
        batch = poller(settings_for(poller, exchange, url)).poll(since)
    return batch, exchange.seen


def check_poller_contract(poller: type[PrinterPoller], exchange_file: Path, *,
                          expect_records: int = 1) -> PollerReport:
    """Check ``poller`` against its recorded exchange; AssertionError lists every problem."""
    report = PollerReport(str(getattr(poller, "id", "")))
    ident = getattr(poller, "id", "")
    if not isinstance(ident, str) or not _ID_PATTERN.match(ident):
        report.problems.append("class: id must be lower-case letters, digits, _ . -")
    for attr in ("label", "version"):
        value = getattr(poller, attr, "")
        if not isinstance(value, str) or not value.strip():
            report.problems.append(f"class: {attr} must be a non-empty string")
    if getattr(poller, "poll", None) is PrinterPoller.poll:
        report.problems.append("class: does not implement poll()")
        raise AssertionError("\n".join(report.problems))
    _recorded(poller, exchange_file, expect_records, report)
    _faults(poller, exchange_file, report)
    if report.problems:
        raise AssertionError(f"poller {report.poller_id} breaks the contract:\n  "
                             + "\n  ".join(report.problems))
    return report


def _recorded(poller: type[PrinterPoller], exchange_file: Path, expect: int,
              report: PollerReport) -> None:
    try:
        batch, report.requests = poll_recorded(poller, exchange_file)
    except PollerError as exc:
        report.problems.append(f"recorded poll: raised PollerError: {exc}")
        return
    except Exception as exc:
        report.problems.append(f"recorded poll: raised {type(exc).__name__} (must raise "
                               "PollerError or return a PollBatch)")
        return
    if not isinstance(batch, PollBatch):
        report.problems.append(f"recorded poll: returned {type(batch).__name__}, "
                               "expected a PollBatch")
        return
    if batch.cursor is not None and not isinstance(batch.cursor, str):
        report.problems.append(f"recorded poll: cursor is a {type(batch.cursor).__name__}, "
                               "expected a str or None")
    report.cursor = batch.cursor
    identities: set[tuple[str, int]] = set()
    name = str(Exchange.load(exchange_file).settings.get("name", DEFAULT_SETTINGS["name"]))
    for i, record in enumerate(batch.records):
        if not isinstance(record, HarvestRecord):
            report.problems.append(f"recorded poll: records[{i}] is a "
                                   f"{type(record).__name__}, expected a HarvestRecord "
                                   "(use polled_record)")
            continue
        report.records.append(record)
        if record.source.connector != poller.id:
            report.problems.append(f"records[{i}]: source.connector is "
                                   f"{record.source.connector!r}, expected {poller.id!r}")
        if not record.source.path.startswith(f"poller://{name}/"):
            report.problems.append(f"records[{i}]: source.path must be "
                                   f"poller://{name}/<job id> (use polled_record)")
        identity = (record.source.sha256, record.source.index)
        if identity in identities:
            report.problems.append(f"records[{i}]: the same job identity twice")
        identities.add(identity)
    if len(report.records) < expect:
        report.problems.append(f"recorded poll: {len(report.records)} record(s), expected "
                               f"at least {expect}")


def _faults(poller: type[PrinterPoller], exchange_file: Path, report: PollerReport) -> None:
    recorded = Exchange.load(exchange_file)
    failing = Exchange(recorded.settings, recorded.env, [
        {"request": {"method": m, "path": str(x["request"].get("path", "/"))},
         "response": {"status": 500, "json": {"error": "recorded failure"}}}
        for x in recorded.exchanges for m in ("GET", "POST")])
    with replay_server(failing) as url, _env(failing.env):
        _expect_poller_error(poller, settings_for(poller, failing, url), "HTTP 500", report)
    with socket.socket() as sock:  # a port nobody listens on: bind, then close
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with _env(recorded.env):
        _expect_poller_error(poller, settings_for(poller, recorded, closed), "unreachable",
                             report)


def _expect_poller_error(poller: type[PrinterPoller], settings: dict[str, Any], what: str,
                         report: PollerReport) -> None:
    try:
        poller(settings).poll(None)
    except PollerError as exc:
        if "\n" in str(exc):
            report.problems.append(f"{what}: PollerError message is not one line")
        return
    except Exception as exc:
        report.problems.append(f"{what}: raised {type(exc).__name__}, expected PollerError")
        return
    report.problems.append(f"{what}: poll returned normally, expected PollerError")
