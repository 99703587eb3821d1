"""The example package's own tests, using printharvest.testing (run: pytest tests/)."""

from __future__ import annotations

from pathlib import Path

from printharvest_lab_connector import LabPrintLogConnector

from printharvest.connectors.probe import probe_file
from printharvest.testing import check_connector_contract

SAMPLE = Path(__file__).resolve().parent / "samples" / "bench.printlog.jsonl"


def test_contract() -> None:
    check_connector_contract(LabPrintLogConnector, samples=[SAMPLE], expect_claim=True)


def test_sample_values() -> None:
    records = LabPrintLogConnector().harvest(probe_file(SAMPLE))
    assert [r.source.index for r in records] == [0, 1, 3]
    assert [r.outcome for r in records] == ["success", "aborted", "success"]
    assert records[0].print_duration_s == 5400
    assert records[2].materials[0].used_g is None and len(records[2].warnings) == 2
