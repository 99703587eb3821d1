"""The built-in HTTP pollers pass the same poller contract a lab's poller must pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from printharvest.pollers.moonraker import MoonrakerPoller
from printharvest.pollers.octoprint import OctoPrintPoller
from printharvest.testing import check_poller_contract


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "exchange.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_octoprint_poller_keeps_the_contract(tmp_path: Path) -> None:
    entry = {"name": "PATIENT_SECRET.gcode", "path": "PATIENT_SECRET.gcode",
             "origin": "local", "type": "machinecode",
             "gcodeAnalysis": {"estimatedPrintTime": 3600.0,
                               "filament": {"tool0": {"length": 1000.0, "volume": 2.4}}},
             "prints": {"success": 1, "failure": 0,
                        "last": {"date": 1763500000.0, "printTime": 3700.0, "success": True}}}
    exchange = _write(tmp_path, {
        "settings": {"name": "prusa-2", "model": "MK3S",
                     "secrets": {"api_key": "env:OCTO_KEY"}},
        "env": {"OCTO_KEY": "recorded"},
        "exchanges": [{"request": {"method": "GET", "path": "/api/files",
                                   "query": {"recursive": "true"}},
                       "response": {"status": 200, "json": {"files": [entry]}}}]})
    report = check_poller_contract(OctoPrintPoller, exchange)
    assert report.cursor == repr(1763500000.0)
    assert "PATIENT_SECRET" not in report.records[0].model_dump_json()


def test_moonraker_poller_keeps_the_contract(tmp_path: Path) -> None:
    job = {"job_id": "000001", "exists": True, "user": "No User",
           "filename": "PATIENT_SECRET.gcode", "status": "completed",
           "start_time": 1763500000.0, "end_time": 1763500500.0, "print_duration": 400.0,
           "total_duration": 500.0, "filament_used": 1234.5,
           "metadata": {"estimated_time": 480, "layer_height": 0.2, "filament_type": "PLA"}}
    exchange = _write(tmp_path, {
        "settings": {"name": "voron-1", "model": "Voron 2.4"},
        "exchanges": [{"request": {"method": "GET", "path": "/server/history/list"},
                       "response": {"status": 200,
                                    "json": {"result": {"count": 1, "jobs": [job]}}}}]})
    report = check_poller_contract(MoonrakerPoller, exchange)
    assert len(report.records) == 1 and report.records[0].outcome == "success"
