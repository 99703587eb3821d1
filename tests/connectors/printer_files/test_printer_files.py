"""The vendor file connectors: Formlabs, PreForm .form, Stratasys, OctoPrint, Moonraker."""

from __future__ import annotations

import json
import os
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from printharvest.connectors.probe import probe_file
from printharvest.harvest.harvester import Harvester
from printharvest.harvest.plugins import PluginHost
from printharvest.models import Material
from printharvest.rules.lab import Rules
from tests.support.cli import CliResult
from tests.support.fake_printers import FakeHttp
from tests.support.paths import SAMPLE_JOBS

FORMATS = SAMPLE_JOBS / "formats"
VENDOR_IDS = ("formlabs_prints", "formlabs_form", "stratasys_status", "octoprint_metadata",
              "moonraker_history")


@pytest.fixture(scope="module")
def harvester() -> Harvester:
    return Harvester(PluginHost.load(None, entry_points=False), Rules.load(None))


def winner(harvester: Harvester, path: Path) -> str | None:
    loaded = harvester.host.select(probe_file(path))
    return loaded.id if loaded else None


@pytest.mark.parametrize(("sample", "connector"), [
    ("formlabs/prints_page.json", "formlabs_prints"),
    ("stratasys/status.sts", "stratasys_status"),
    ("octoprint/.metadata.json", "octoprint_metadata"),
    ("moonraker/moonraker-sql.db", "moonraker_history"),
])
def test_samples_are_claimed_by_their_connector(harvester: Harvester, sample: str,
                                                connector: str) -> None:
    assert winner(harvester, FORMATS / sample) == connector


def test_job_and_file_names_never_reach_records(harvester: Harvester) -> None:
    # Only the vendor samples: other families' file names may legitimately say "mandible".
    vendors = [FORMATS / name for name in ("formlabs", "stratasys", "octoprint", "moonraker")]
    outcome = harvester.harvest_paths(vendors, grouping="root")
    text = json.dumps([r.to_json_dict() for r in outcome.records])
    for secret in ("aorta_model", "mandible_guide", "pelvis_section", "kidney_left",
                   "skull_base", "heart_shell", "calibration_cube", "ribcage", "case12"):
        assert secret not in text


def test_detect_never_raises_and_ignores_garbage(harvester: Harvester, tmp_path: Path) -> None:
    rng = random.Random(7)
    blobs = [bytes(rng.getrandbits(8) for _ in range(4096)), b"", b"{", b"[1, 2, 3]",
             b"SQLite format 3\x00" + b"\x00" * 200, b"set machineStatus(",
             b'{"results": "nope"}']
    for i, blob in enumerate(blobs):
        path = tmp_path / f"blob{i}.json"
        path.write_bytes(blob)
        probe = probe_file(path)
        for ident in VENDOR_IDS:
            score = harvester.host.connectors[ident].connector.detect(probe)
            assert 0.0 <= score <= 1.0
            if ident != "formlabs_form":
                assert score < 0.5, (ident, i)


def harvest_one(harvester: Harvester, path: Path) -> tuple[list[Any], list[str]]:
    outcome = harvester.harvest_paths([path], grouping="root")
    return outcome.records, [str(e) for e in outcome.errors]


def test_formlabs_plain_list_unknown_code_and_broken_json(harvester: Harvester,
                                                          tmp_path: Path) -> None:
    run = {"guid": "g", "printer": "X", "status": "FINISHED", "material": "FLZZZZ99",
           "material_name": "Mystery Resin", "layer_thickness_mm": 0.05,
           "print_started_at": "2026-01-01T00:00:00Z", "estimated_duration_ms": -5,
           "volume_ml": "n/a"}
    path = tmp_path / "prints.json"
    path.write_text(json.dumps([run]))
    [record], errors = harvest_one(harvester, path)
    assert errors == []
    assert record.materials[0].name == "Mystery Resin" and record.print_time_s is None
    assert record.volume_ml is None and record.outcome == "success"
    assert "material code not in the Formlabs material table" in record.warnings
    path.write_text(json.dumps({"results": [run]})[:-20])
    records, errors = harvest_one(harvester, path)
    assert records == [] and len(errors) == 1 and "not valid JSON" in errors[0]


def test_stratasys_cut_off_and_empty_reports(harvester: Harvester, tmp_path: Path) -> None:
    text = (FORMATS / "stratasys" / "status.sts").read_text()
    path = tmp_path / "status.sts"
    path.write_text(text[: text.index("set machineStatus(previousJob)") + 60])
    records, errors = harvest_one(harvester, path)
    assert records == [] and "cut off" in errors[0] and "skull" not in errors[0]
    path.write_text("set machineStatus(general) {\n\tmodelerType paia\n}\n")
    records, errors = harvest_one(harvester, path)
    assert records == [] and "no currentJob or previousJob" in errors[0]


def test_moonraker_db_is_opened_read_only(harvester: Harvester, tmp_path: Path) -> None:
    source = FORMATS / "moonraker" / "moonraker-sql.db"
    copy = tmp_path / "moonraker-sql.db"
    copy.write_bytes(source.read_bytes())
    os.chmod(copy, 0o444)
    before = (copy.read_bytes(), copy.stat().st_mtime_ns)
    records, errors = harvest_one(harvester, copy)
    assert errors == [] and len(records) == 2
    assert (copy.read_bytes(), copy.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moonraker-sql.db"]


def test_moonraker_without_history_table_or_corrupt(harvester: Harvester,
                                                    tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE things (a)")
    conn.commit()
    conn.close()
    assert winner(harvester, other) != "moonraker_history"
    broken = tmp_path / "moonraker-sql.db"
    data = (FORMATS / "moonraker" / "moonraker-sql.db").read_bytes()
    broken.write_bytes(data[:200] + b"job_history" + b"\xff" * 3000)
    records, errors = harvest_one(harvester, broken)
    assert records == [] and len(errors) == 1 and "\n" not in errors[0]


def test_form_file_without_preformserver(run_cli: Callable[..., CliResult], home: Path,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.delenv("PRINTHARVEST_PREFORM_URL", raising=False)
    job = tmp_path / "job.form"
    job.write_bytes(b"PK\x03\x04 not really a zip")
    result = run_cli("--home", str(home), "inspect", "--json", str(job))
    assert result.code == 1
    assert "needs PreFormServer" in result.err and len(result.err.strip().splitlines()) == 1


def test_form_file_through_preformserver(harvester: Harvester, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []

    def load_form(query: dict[str, str], headers: dict[str, str], body: bytes
                  ) -> tuple[int, Any]:
        loaded.append(json.loads(body)["file"])
        return 200, {"id": "s1", "models": [{"id": "m1", "name": "PATIENT.stl"}]}

    def scene(query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        return 200, {"id": "s1", "scene_settings": {"machine_type": "FRMB-3-1",
                                                    "material_code": "FLBMCL01",
                                                    "layer_thickness_mm": 0.1},
                     "material_usage": {"volume_ml": 27.4},
                     "models": [{"id": "m1", "name": "PATIENT.stl"}, {"id": "m2"}]}

    server = FakeHttp({
        ("POST", "/load-form/"): load_form, ("GET", "/scene/s1/"): scene,
        ("POST", "/scene/s1/estimate-print-time/"): lambda q, h, b: (
            200, {"total_print_time_s": 5400, "preprint_time_s": 300}),
        ("DELETE", "/scene/s1/"): lambda q, h, b: (200, {})})
    try:
        monkeypatch.setenv("PRINTHARVEST_PREFORM_URL", server.url)
        job = tmp_path / "job.form"
        job.write_bytes(b"PK\x03\x04 form")
        [record], errors = harvest_one(harvester, job)
        assert errors == [] and loaded == [str(job.resolve())]
        assert record.printer is not None and record.printer.model == "Form 3B"
        assert record.technology == "vat_photopolymerization"
        assert record.materials[0].name == "BioMed Clear V1"
        assert (record.layer_height_mm, record.print_time_s, record.volume_ml,
                record.part_count) == (0.1, 5400, 27.4, 2)
        assert "PATIENT" not in record.model_dump_json()
        assert ("DELETE", "/scene/s1/", {}) in server.requests
        server.faults.append("500")
        records, errors = harvest_one(harvester, job)
        assert records == [] and "PreFormServer answered badly" in errors[0]
    finally:
        server.close()
    records, errors = harvest_one(harvester, job)
    assert records == [] and "needs PreFormServer" in errors[0]


def test_every_formlabs_material_code_gets_a_class() -> None:
    from printharvest.connectors.printer_files.formlabs import material_table

    rules = Rules.load(None)
    table = material_table()
    assert len(table) > 100 and table["FLGPGR05"][0] == "Grey V5"
    for code, (label, machines) in table.items():
        kind = "powder" if any(m.startswith(("FS30", "PILK")) for m in machines) else "resin"
        matched = rules.material_rule(Material(name=label, code=code, type=kind))
        assert matched is not None and matched[0].material_class, code
