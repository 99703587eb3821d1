"""Submission through the outbox: record, send, read back, show the registry's answer.

Each ready case becomes one transaction whose idempotency key is the case id plus the hash of
the case record. The transaction is stored (``pending``) before anything is sent, sent with
that key on every retry, and its final status (accepted / rejected with the registry's
messages) is written back to the case. A case version already sent is never sent again; a
transaction left open (network gone, sign-in expired) is resumed by the next ``submit``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from printharvest.exceptions import AuthError, EgressError, TransmissionError
from printharvest.nrdr.client import NrdrClient
from printharvest.nrdr.config import NrdrEnvironment
from printharvest.privacy.egress import EgressGuard, release
from printharvest.registry.exporter import Exporter, problems_for, version_hash
from printharvest.store.outbox import Outbox, OutboxRow

FINAL = ("accepted", "rejected")


def idempotency_key(case_id: int, version: str) -> str:
    """The key of one case version: the same case and values give the same key."""
    return f"case-{case_id}-{version[:40]}"


@dataclass
class SubmitReport:
    """What one ``submit`` run did."""

    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


class Submitter:
    """Sends ready cases to the registry through the outbox."""

    def __init__(self, exporter: Exporter, client: NrdrClient, env_name: str,
                 env: NrdrEnvironment, status_polls: int = 5,
                 poll_wait: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> None:
        self.exporter = exporter
        self.cases = exporter.cases
        self.store = exporter.cases.store
        self.outbox = Outbox(self.store)
        self.client = client
        self.env_name = env_name
        self.env = env
        self.status_polls = status_polls
        self.poll_wait = poll_wait
        self.sleep = sleep

    def submit(self, ids: Sequence[int] = ()) -> SubmitReport:
        """Resume open transactions, then send every ready case (or ``ids``) not yet sent.

        AuthError ends the run at once; the transaction in hand stays in the outbox.
        """
        report = SubmitReport()
        resumed: set[int] = set()
        for row in self.outbox.open_rows(self.env_name, list(ids) or None):
            resumed.add(row.case_id)
            self._deliver(row, report)
        chosen = [self.cases.get(i) for i in ids] if ids else self.cases.list("ready")
        mapping = self.exporter.mapping()
        for case in chosen:
            if case.id in resumed:
                continue
            if case.status != "ready":
                if not ids:
                    continue
                report.skipped.append((case.id, f"status is {case.status}, only ready cases "
                                                "are submitted"))
                continue
            problems = problems_for(case, self.exporter.dictionary)
            if problems:
                report.skipped.append((case.id, "; ".join(problems)))
                continue
            if not self.exporter.releasable([case], report.skipped):
                continue
            record = self.exporter.record(case, mapping)
            version = version_hash(record)
            key = idempotency_key(case.id, version)
            existing = self.outbox.find(self.env_name, key)
            if existing is not None:
                if existing.state in FINAL and case.status == "ready":
                    # Edited and edited back: this exact version already has the registry's
                    # answer, so the case takes that answer again instead of waiting forever.
                    with self.store.transaction():
                        self.store.set_status(case.id, existing.state, "registry")
                report.skipped.append((case.id, f"this version was already sent "
                                                f"({existing.state})"))
                continue
            guard = self.exporter.guard([case])
            header: dict[str, Any] = {
                **mapping.header, "transactionType": "case", "idempotencyKey": key,
                "partnerId": self.env.partner_id, "facilityId": self.env.facility_id,
                "submittedAt": datetime.now(UTC).isoformat(timespec="seconds")}
            body = json.dumps({"header": header, "case": record}, ensure_ascii=False,
                              separators=(",", ":"))
            try:
                release(body.encode("utf-8"), guard, f"transaction of case {case.registry_id}")
            except EgressError as exc:
                report.skipped.append((case.id, str(exc)))
                continue
            with self.store.transaction():  # check and record at once: two runs never both add
                added = self.outbox.find(self.env_name, key) is None
                if added:
                    row = self.outbox.add(case.id, key, version, self.env_name, body)
                    self.store.log(case.id, "submit", "outbox", None, None, key)
            if not added:
                report.skipped.append((case.id, "this version is being sent by another run"))
                continue
            self._deliver(row, report)
        return report

    def _guard(self, row: OutboxRow) -> EgressGuard:
        return self.exporter.guard([self.cases.get(row.case_id)])

    def _deliver(self, row: OutboxRow, report: SubmitReport) -> None:
        guard = self._guard(row)
        try:
            if row.transaction_id is None:
                row = self._send(row, guard)
            self._poll(row, guard, report)
        except TransmissionError as exc:
            with self.store.transaction():
                self.outbox.update(row.id, state="failed", last_error=str(exc),
                                   attempts=row.attempts + exc.attempts)
            report.failed.append((row.case_id, str(exc)))
        except AuthError:
            raise

    def _send(self, row: OutboxRow, guard: EgressGuard) -> OutboxRow:
        answer = self.client.post_transaction(row.body.encode("utf-8"), row.idempotency_key,
                                              guard)
        attempts = row.attempts + answer.attempts
        transaction_id = answer.body.get("transactionId")
        if answer.status in (200, 201, 202) and not isinstance(transaction_id, str):
            # A success we cannot read is not a refusal: the registry may hold the
            # transaction. Ask it by the key before deciding anything.
            transaction_id = self._look_up(row, guard)
            if transaction_id is None:
                raise TransmissionError(
                    f"the registry answered {answer.status} but its answer could not be "
                    "read, and it lists no transaction for this case version yet; the next "
                    "submit asks again (same key, never a second transaction)",
                    attempts=answer.attempts)
        if answer.status not in (200, 201, 202) or not isinstance(transaction_id, str):
            messages = _messages(answer.body) or [
                {"element": None, "message": f"the registry answered {answer.status}"}]
            with self.store.transaction():
                row = self.outbox.update(row.id, state="rejected", attempts=attempts,
                                         messages=messages)
                self._final(row, "rejected", messages)
            return row
        with self.store.transaction():
            row = self.outbox.update(row.id, state="sent", transaction_id=transaction_id,
                                     attempts=attempts, clear_error=True)
            if self.store.case_row(row.case_id).status == "ready":
                self.store.set_status(row.case_id, "submitted", "submit")
        return row

    def _look_up(self, row: OutboxRow, guard: EgressGuard) -> str | None:
        """The registry's transaction id for this row's key, or None when it has none."""
        answer = self.client.transaction_by_key(row.idempotency_key, guard)
        found = answer.body.get("transactionId")
        if answer.status == 200 and isinstance(found, str) and found:
            return found
        return None

    def _poll(self, row: OutboxRow, guard: EgressGuard, report: SubmitReport) -> None:
        if row.state in FINAL:
            (report.accepted if row.state == "accepted" else report.rejected).append(row.case_id)
            return
        assert row.transaction_id is not None
        for poll in range(self.status_polls):
            answer = self.client.transaction_status(row.transaction_id, guard)
            state = str(answer.body.get("status", "")).lower()
            if state in FINAL:
                messages = _messages(answer.body)
                with self.store.transaction():
                    row = self.outbox.update(row.id, state=state, messages=messages)
                    self._final(row, state, messages)
                (report.accepted if state == "accepted" else report.rejected).append(row.case_id)
                return
            if poll + 1 < self.status_polls:
                self.sleep(self.poll_wait)
        report.waiting.append(row.case_id)

    def _final(self, row: OutboxRow, state: str, messages: list[dict[str, Any]]) -> None:
        """Write a final answer to the case: status, and the registry's messages in the audit."""
        self.store.set_status(row.case_id, state, "registry")
        for message in messages:
            self.store.log(row.case_id, "registry", "registry_message", message.get("element"),
                           None, str(message.get("message")))


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The registry's errors as ``[{element, message}]``."""
    found = body.get("errors")
    if not isinstance(found, list):
        return []
    result = []
    for item in found:
        if isinstance(item, dict):
            result.append({"element": item.get("element") or item.get("field"),
                           "message": str(item.get("message", ""))[:500]})
    return result


def registry_lines(outbox: Outbox, case_id: int) -> list[str]:
    """What the registry last said about a case, as lines for ``cases show`` and the web page."""
    row = outbox.latest(case_id)
    if row is None:
        return []
    lines = [f"registry: transaction {row.transaction_id or '(not yet received)'} "
             f"[{row.state}] {row.environment}, {row.updated_at}"]
    if row.last_error and row.state not in FINAL:
        lines.append(f"registry: last try: {row.last_error}")
    lines.extend(f"registry says: {m.get('element') or 'case'}: {m.get('message')}"
                 for m in row.messages)
    return lines
