"""Submission through the outbox: record, send in batches, read back, show the registry's answer.

A transaction is a header plus a list of case records (up to ``nrdr: batch_size``), with a
result per record. Each case version is recorded in the outbox (``pending``) before anything is
sent; the rows of one transaction share a batch key. The stable generated case id inside each
record is what the registry uses to recognise a case it already holds; the ``Idempotency-Key``
header (the batch key) is only an extra. What the registry's words mean (``Posted``,
``PartiallySuccessful``, ``UpdatedWithNewTransaction``, ...) is data in the NRDR mapping file.
A case version already sent is never sent again; a batch left open (network gone, sign-in
expired) is resumed by the next ``submit`` with the same records.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from printharvest.cases.status import allowed, move
from printharvest.exceptions import AuthError, EgressError, TransmissionError
from printharvest.nrdr.client import NrdrClient
from printharvest.nrdr.config import NrdrEnvironment
from printharvest.privacy.egress import EgressGuard, release
from printharvest.registry.exporter import Exporter
from printharvest.registry.mapping import Meaning, NrdrMapping
from printharvest.registry.outgoing import OutgoingCase
from printharvest.store.outbox import Outbox, OutboxRow

FINAL = ("accepted", "rejected", "replaced")


def idempotency_key(case_id: int, version: str) -> str:
    """The key of one case version: the same case and values give the same key."""
    return f"case-{case_id}-{version[:40]}"


def new_batch_key() -> str:
    """A generated key for one transaction (time plus randomness; no case data)."""
    return "B" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(4)


@dataclass
class SubmitReport:
    """What one ``submit`` run did."""

    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def add(self, state: str, case_id: int) -> None:
        """Count a case under its final state."""
        {"accepted": self.accepted, "rejected": self.rejected,
         "replaced": self.replaced}.get(state, self.waiting).append(case_id)


class Submitter:
    """Sends ready cases to the registry through the outbox."""

    def __init__(self, exporter: Exporter, client: NrdrClient, env_name: str,
                 env: NrdrEnvironment, status_polls: int = 5,
                 poll_wait: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 batch_size: int = 10) -> None:
        self.outgoing = exporter.outgoing
        self.cases = exporter.cases
        self.store = exporter.cases.store
        self.outbox = Outbox(self.store)
        self.client = client
        self.env_name = env_name
        self.env = env
        self.status_polls = status_polls
        self.poll_wait = poll_wait
        self.sleep = sleep
        self.progress: Callable[[str], None] = lambda _line: None
        """Told each step as it happens (sending a case, waiting for the registry)."""
        self.batch_size = max(1, batch_size)
        self._mapping: NrdrMapping | None = None

    @property
    def mapping(self) -> NrdrMapping:
        """The checked NRDR mapping (loaded once per run)."""
        if self._mapping is None:
            self._mapping = self.outgoing.mapping()
        return self._mapping

    def submit(self, ids: Sequence[int] = ()) -> SubmitReport:
        """Resume open batches, then send every ready case (or ``ids``) not yet sent.

        AuthError ends the run at once; the batch in hand stays in the outbox.
        """
        report = SubmitReport()
        resumed: set[int] = set()
        for batch in self._open_batches(list(ids) or None):
            resumed.update(row.case_id for row in batch)
            self._deliver(batch, report)
        ready_ids = list(ids) if ids else [c.id for c in self.cases.list("ready")]
        wanted = [i for i in ready_ids if i not in resumed]
        if not wanted:
            return report
        prepared = self.outgoing.prepare(wanted, mapping=self.mapping)
        for case_id, reason in prepared.skipped:
            if ids or "only ready cases" not in reason:
                report.skipped.append((case_id, reason))
        fresh: list[OutgoingCase] = []
        for item in prepared.items:
            existing = self.outbox.find(self.env_name,
                                        idempotency_key(item.case.id, item.version))
            if existing is None:
                fresh.append(item)
                continue
            if existing.state in FINAL:
                # Edited and edited back: this exact version already has the registry's
                # answer, so the case takes that answer again instead of waiting forever.
                with self.store.transaction():
                    move(self.store, item.case.id, existing.state, "registry")
            report.skipped.append((item.case.id, f"this version was already sent "
                                                 f"({existing.state})"))
        for start in range(0, len(fresh), self.batch_size):
            batch = self._record(fresh[start:start + self.batch_size], report)
            if batch:
                self._deliver(batch, report)
        return report

    # -- recording ------------------------------------------------------------------------

    def _open_batches(self, case_ids: list[int] | None) -> list[list[OutboxRow]]:
        """Open rows grouped by batch (a row recorded before batches were kept is its own)."""
        groups: dict[str, list[OutboxRow]] = {}
        for row in self.outbox.open_rows(self.env_name, case_ids):
            key = row.batch_key or f"row-{row.id}"
            if key in groups:
                continue
            groups[key] = ([r for r in self.outbox.batch(row.batch_key) if r.state not in FINAL]
                           if row.batch_key else [row])
        return list(groups.values())

    def _record(self, items: list[OutgoingCase], report: SubmitReport) -> list[OutboxRow]:
        """Record one batch as pending (check and add at once: two runs never both add)."""
        batch_key = new_batch_key()
        rows: list[OutboxRow] = []
        with self.store.transaction():
            for item in items:
                key = idempotency_key(item.case.id, item.version)
                if self.outbox.find(self.env_name, key) is not None:
                    report.skipped.append((item.case.id, "this version is being sent by "
                                                         "another run"))
                    continue
                body = json.dumps(item.record, ensure_ascii=False, separators=(",", ":"))
                rows.append(self.outbox.add(item.case.id, key, item.version, self.env_name,
                                            body, batch_key))
                self.store.log(item.case.id, "submit", "outbox", None, None, key)
        return rows

    def _body(self, rows: list[OutboxRow]) -> bytes:
        """The transaction of a batch: header plus the recorded case records, in order.

        Built from what was recorded, so a retry or a resumed batch sends the same records.
        """
        records = []
        for row in rows:
            data = json.loads(row.body)
            # rows recorded before batches held a whole one-case transaction
            records.append(data["case"] if isinstance(data, dict) and "case" in data
                           and "header" in data else data)
        header: dict[str, Any] = {
            **self.mapping.header, "transactionType": "case",
            "batchId": rows[0].batch_key or rows[0].idempotency_key,
            "recordCount": len(records), "partnerId": self.env.partner_id,
            "facilityId": self.env.facility_id, "submittedAt": rows[0].created_at}
        body = {"header": header, self.mapping.transaction.records_key: records}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    # -- delivering -----------------------------------------------------------------------

    def _guard(self, rows: list[OutboxRow]) -> EgressGuard:
        return self.outgoing.guard([self.cases.get(row.case_id) for row in rows])

    def _deliver(self, rows: list[OutboxRow], report: SubmitReport) -> None:
        guard = self._guard(rows)
        try:
            body = self._body(rows)
            release(body, guard, "transaction")
        except EgressError as exc:
            with self.store.transaction():
                for row in rows:
                    self.outbox.update(row.id, state="failed", last_error=str(exc))
            report.failed.extend((row.case_id, str(exc)) for row in rows)
            return
        cases = ", ".join(str(row.case_id) for row in rows)
        try:
            if rows[0].transaction_id is None:
                self.progress(f"case(s) {cases}: sending ...")
                rows = self._send(rows, body, guard)
            if any(row.state not in FINAL for row in rows):
                self.progress(f"case(s) {cases}: sent, waiting for the registry's answer ...")
            self._poll(rows, guard, report)
        except TransmissionError as exc:
            with self.store.transaction():
                for row in rows:
                    self.outbox.update(row.id, state="failed", last_error=str(exc),
                                       attempts=row.attempts + exc.attempts)
            report.failed.extend((row.case_id, str(exc)) for row in rows)
        except AuthError:
            raise

    def _send(self, rows: list[OutboxRow], body: bytes, guard: EgressGuard) -> list[OutboxRow]:
        key = rows[0].batch_key or rows[0].idempotency_key
        answer = self.client.post_transaction(body, key, guard)
        transaction_id = answer.body.get("transactionId")
        if answer.status in (200, 201, 202) and not isinstance(transaction_id, str):
            # A success we cannot read is not a refusal: the registry may hold the
            # transaction. Ask it by the key before deciding anything.
            transaction_id = self._look_up(key, guard)
            if transaction_id is None:
                raise TransmissionError(
                    f"the registry answered {answer.status} but its answer could not be "
                    "read, and it lists no transaction for this case version yet; the next "
                    "submit asks again (same key, never a second transaction)",
                    attempts=answer.attempts)
        if answer.status not in (200, 201, 202) or not isinstance(transaction_id, str):
            messages = _messages(answer.body, self.mapping) or [
                {"element": None, "message": f"the registry answered {answer.status}"}]
            with self.store.transaction():
                rows = [self.outbox.update(row.id, state="rejected",
                                           attempts=row.attempts + answer.attempts,
                                           messages=messages) for row in rows]
                for row in rows:
                    self._final(row, "rejected", messages)
            return rows
        with self.store.transaction():
            rows = [self.outbox.update(row.id, state="sent", transaction_id=transaction_id,
                                       attempts=row.attempts + answer.attempts,
                                       clear_error=True) for row in rows]
            for row in rows:
                if self.store.case_row(row.case_id).status == "ready":
                    move(self.store, row.case_id, "submitted", "submit")
        return rows

    def _look_up(self, key: str, guard: EgressGuard) -> str | None:
        """The registry's transaction id for this batch's key, or None when it has none."""
        answer = self.client.transaction_by_key(key, guard)
        found = answer.body.get("transactionId")
        if answer.status == 200 and isinstance(found, str) and found:
            return found
        return None

    def _poll(self, rows: list[OutboxRow], guard: EgressGuard, report: SubmitReport) -> None:
        if all(row.state in FINAL for row in rows):
            for row in rows:
                report.add(row.state, row.case_id)
            return
        transaction_id = rows[0].transaction_id
        assert transaction_id is not None
        for poll in range(self.status_polls):
            answer = self.client.transaction_status(transaction_id, guard)
            word = answer.body.get(self.mapping.transaction.status_key)
            meaning = self.mapping.meaning(word)
            if meaning is not None and meaning != "waiting":
                self._results(rows, str(word), meaning, answer.body, report)
                return
            if poll + 1 < self.status_polls:
                self.sleep(self.poll_wait)
        report.waiting.extend(row.case_id for row in rows)

    def _results(self, rows: list[OutboxRow], word: str, meaning: Meaning,
                 body: dict[str, Any], report: SubmitReport) -> None:
        """Write a transaction's final answer to each of its records and cases."""
        common = _messages(body, self.mapping)
        results = _record_results(body, self.mapping)
        with self.store.transaction():
            for row in rows:
                registry_id = self.cases.get(row.case_id).registry_id
                result = results.get(registry_id)
                state: Meaning | None = meaning
                messages = list(common)
                if result is not None:
                    state = self.mapping.meaning(result.get("status"), records=True) or meaning
                    messages = _messages(result, self.mapping) + messages
                if state == "partial":  # no per-record word: the registry did not take it
                    state = "rejected"
                    messages.append({"element": None, "message": "the registry gave no "
                                     "result for this case in a partially successful batch"})
                if state not in FINAL:
                    report.waiting.append(row.case_id)
                    continue
                row = self.outbox.update(row.id, state=state, messages=messages,
                                         registry_state=str(result.get("status")) if result
                                         else word)
                self._final(row, state, messages)
                report.add(state, row.case_id)

    def _final(self, row: OutboxRow, state: str, messages: list[dict[str, Any]]) -> None:
        """Write a final answer to the case: status, and the registry's messages in the audit.

        A replaced version leaves the case's status alone: the newer transaction decides it. A
        case edited back to needs_clinical since it was sent keeps that status too (the answer
        is about the version sent, which the outbox row and the messages record).
        """
        if state != "replaced" and allowed(self.store.case_row(row.case_id).status, state):
            move(self.store, row.case_id, state, "registry")
        for message in messages:
            self.store.log(row.case_id, "registry", "registry_message", message.get("element"),
                           None, str(message.get("message")))


def _record_results(body: dict[str, Any], mapping: NrdrMapping) -> dict[str, dict[str, Any]]:
    """The per-record results of a status answer, by the case id the registry echoes."""
    found = body.get(mapping.transaction.results_key)
    if not isinstance(found, list):
        return {}
    results: dict[str, dict[str, Any]] = {}
    for item in found:
        if isinstance(item, dict) and isinstance(item.get(mapping.case_id_key), str):
            results[item[mapping.case_id_key]] = item
    return results


def _messages(body: dict[str, Any], mapping: NrdrMapping | None = None) -> list[dict[str, Any]]:
    """The registry's errors as ``[{element, message}]``."""
    found = body.get(mapping.transaction.errors_key if mapping else "errors")
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
    said = f" ({row.registry_state})" if row.registry_state else ""
    lines = [f"registry: transaction {row.transaction_id or '(not yet received)'} "
             f"[{row.state}{said}] {row.environment}, {row.updated_at}"]
    if row.last_error and row.state not in FINAL:
        lines.append(f"registry: last try: {row.last_error}")
    lines.extend(f"registry says: {m.get('element') or 'case'}: {m.get('message')}"
                 for m in row.messages)
    return lines
