"""Stratasys FDM status service poller (TCP port 53742).

The client sends two 64-byte, NUL-padded fields, the command ``GetFile`` and the file name
``status.sts``; the printer answers with the TCL-style status report and closes the
connection (a leading NUL-padded acknowledgement, when a printer sends one, is skipped).
Every finished job seen in ``currentJob`` / ``previousJob`` is recorded once; the cursor is
the start time of the newest job recorded. Job names are never read.
"""

from __future__ import annotations

import socket
import time

from printharvest.connectors.printer_files.stratasys import (
    finished_jobs,
    job_fields,
    job_start,
    parse_status,
)
from printharvest.exceptions import PollerError
from printharvest.pollers.base import PollBatch, PrinterPoller, polled_record, timeout_of

DEFAULT_PORT = 53742
FIELD = 64
MAX_PAYLOAD = 8 << 20
DEADLINE_FACTOR = 4


def command(word: str) -> bytes:
    """One 64-byte NUL-padded protocol field."""
    raw = word.encode("ascii")
    if len(raw) > FIELD:
        raise ValueError("protocol field longer than 64 bytes")
    return raw.ljust(FIELD, b"\0")


def fetch_status(host: str, port: int, timeout: float, what: str) -> str:
    """``GetFile status.sts`` over TCP; the report text (raises PollerError on any fault)."""
    chunks: list[bytes] = []
    size = 0
    # a printer trickling bytes must not hold the poll forever: one deadline for the whole
    # exchange on top of the per-read timeout
    deadline = time.monotonic() + timeout * DEADLINE_FACTOR
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(command("GetFile") + command("status.sts"))
            while True:
                if time.monotonic() > deadline:
                    raise PollerError(f"{what}: status report took too long")
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_PAYLOAD:
                    raise PollerError(f"{what}: status report too large")
    except TimeoutError as exc:
        raise PollerError(f"{what}: timed out") from exc
    except OSError as exc:
        raise PollerError(f"{what}: cannot connect ({type(exc).__name__})") from exc
    text = b"".join(chunks).decode("utf-8", errors="replace")
    start = text.find("set machineStatus(")
    if start < 0:
        raise PollerError(f"{what}: answer is not a status report")
    return text[start:].replace("\0", "")


class StratasysPoller(PrinterPoller):
    """Finished jobs from a Stratasys FDM printer's status service."""

    id = "stratasys_status"
    label = "Stratasys FDM status service (TCP 53742)"
    version = "1.0"

    def poll(self, since: str | None) -> PollBatch:
        """The finished jobs in the status report that started after ``since``."""
        name = str(self.settings["name"])
        host = str(self.settings.get("host") or "")
        if not host:
            raise PollerError(f"{name}: needs host")
        port = int(self.settings.get("port") or DEFAULT_PORT)
        text = fetch_status(host, port, timeout_of(self), name)
        try:
            sections = parse_status(text)
        except ValueError as exc:
            raise PollerError(f"{name}: status report is cut off") from exc
        batch = PollBatch(cursor=since)
        for section in finished_jobs(sections):
            start = job_start(sections[section])
            if start is None or (since is not None and start <= since):
                continue
            fields = job_fields(sections, section, [])
            if self.settings.get("model") and fields["printer"].model is None:
                fields["printer"].model = str(self.settings["model"])
            payload = {k: v for k, v in sections[section].items() if k != "jobName"}
            batch.records.append(polled_record(self, start, payload, fields))
            if batch.cursor is None or start > batch.cursor:
                batch.cursor = start
        return batch
