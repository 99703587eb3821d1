"""The example poller passes printharvest's poller contract against its recorded exchange."""

from __future__ import annotations

from pathlib import Path

from printharvest_lab_queue import LabQueuePoller

from printharvest.testing import check_poller_contract, poll_recorded

EXCHANGE = Path(__file__).parent / "exchange.json"


def test_contract() -> None:
    report = check_poller_contract(LabQueuePoller, EXCHANGE, expect_records=2)
    assert report.cursor == "2026-03-02T16:20:00+00:00"


def test_records() -> None:
    batch, requests = poll_recorded(LabQueuePoller, EXCHANGE)
    first, second = batch.records  # the job still printing is left for a later poll
    assert first.outcome == "success" and first.print_duration_s == 5730
    assert first.materials[0].used_g == 21.5
    assert second.outcome == "failed"
    assert first.source.path == "poller://queue-1/412"
    assert requests == ["GET /api/v1/jobs", "GET /api/v1/jobs/page/2"]
    assert "DOE_JANE" not in first.model_dump_json()
