"""The lab's ledger: cost arithmetic, billing units, the print history and the lot question."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml

from printharvest.app import App
from printharvest.config import LedgerSettings
from printharvest.connectors.printer_files.moonraker import spool_ids
from printharvest.ledger.billing import cpt_units
from printharvest.ledger.cost import case_cost, print_cost
from printharvest.models import HarvestRecord, Material, Printer, Source
from printharvest.reports import build_report
from printharvest.reports.facts import CaseFacts
from printharvest.reports.ledger_tables import billing_table
from printharvest.rules.lab import Rules
from printharvest.store.ledger import Ledger
from tests.support.paths import DEMO_CASES, SAMPLE_JOBS

FORMLABS_PAGE = SAMPLE_JOBS / "formats" / "formlabs" / "prints_page.json"
TOKEN = "ZQXLEDGERPATIENT42"


def _priced_rules(root: Path) -> Path:
    """A rules folder with prices: BioMed Clear 350/L, grey resin 150/L, PLA 25/kg;
    a Form 3B (serial GrandPenguin) at 3.00 an hour and the Prusa at 1.50."""
    rules = root / "rules"
    rules.mkdir(parents=True)
    shipped = SAMPLE_JOBS.parent / "rules"
    materials = yaml.safe_load((shipped / "materials.yaml").read_text())
    prices = {"formlabs-biomed-clear": {"price_per_l": 350.0},
              "formlabs-standard": {"price_per_l": 150.0},
              "filament-rigid": {"price_per_kg": 25.0}}
    for rule in materials["materials"]:
        rule.update(prices.get(rule["name"], {}))
    (rules / "materials.yaml").write_text(yaml.safe_dump(materials))
    printers = yaml.safe_load((shipped / "printers.yaml").read_text())
    printers["library"] = [
        {"label": "Form 3B (radiology)", "manufacturer": "Formlabs", "model": "Form 3B",
         "serial": "GrandPenguin", "technology": "vat_photopolymerization", "hourly_rate": 3.0},
        {"label": "Prusa MK4S (bench 1)", "manufacturer": "Prusa Research", "model": "MK4S",
         "technology": "material_extrusion", "hourly_rate": 1.5},
    ]
    (rules / "printers.yaml").write_text(yaml.safe_dump(printers))
    return rules


def _formlabs_records(rules_dir: Path) -> list[HarvestRecord]:
    app = App.open(rules_dir.parent / "inspect-home")
    app.read_only = True
    outcome = app.harvester.harvest_paths([FORMLABS_PAGE])
    assert not outcome.errors
    return [r for r in outcome.records if r.kind == "print"]


def test_print_cost_is_amount_times_price_plus_hours_times_rate(tmp_path: Path) -> None:
    rules_dir = _priced_rules(tmp_path)
    rules = Rules.load(rules_dir)
    first, aborted, nylon = _formlabs_records(rules_dir)
    cost = print_cost(first, rules)
    # 41.27 mL of BioMed Clear at 350/L, and 26,838 s of a 3.00/h printer (by hand)
    assert cost.material.amount == pytest.approx(41.27 / 1000 * 350)
    assert cost.machine.amount == pytest.approx(26838 / 3600 * 3.0)
    assert cost.total.amount == pytest.approx(14.4445 + 22.365)
    assert cost.total.complete and not cost.hours_are_estimate
    # An aborted run used an unknown amount of resin, on a printer not in the library:
    # both are named as missing, and nothing is counted as zero.
    partial = print_cost(aborted, rules).total
    assert partial.amount is None and not partial.complete
    assert any("millilitres used not known" in m for m in partial.missing)
    assert any("not in the printer library" in m for m in partial.missing)
    # Nylon powder is priced per kg here, but the run reports only its volume: the missing
    # amount is named, not guessed from a density.
    assert "Nylon: grams used not known (priced per kg)" in print_cost(nylon, rules).total.missing


def test_estimate_is_used_when_no_duration_is_known() -> None:
    rules = Rules.load(None)
    record = HarvestRecord(
        kind="print", source=Source(path="x", sha256="0" * 64, size=1, connector="t",
                                    connector_version="1"),
        printer=Printer(label="nowhere"), print_time_s=7200,
        materials=[Material(name="PLA", type="PLA", used_g=100.0)])
    cost = print_cost(record, rules)
    assert cost.machine_hours == 2.0 and cost.hours_are_estimate


def test_case_cost_adds_effort_and_names_every_missing_input(tmp_path: Path) -> None:
    rules = Rules.load(_priced_rules(tmp_path))
    first = _formlabs_records(tmp_path / "rules")[0]
    fields = {"effort.segmentation_nonclinician": {"hours": 1, "minutes": 30},
              "effort.cad_clinician": {"hours": 0, "minutes": 45},
              "effort.consultation_clinician": "unknown"}
    settings = LedgerSettings(labour_rates={"clinician": 200.0, "nonclinician": 60.0})
    cost = case_cost([first], fields, rules, settings)
    assert cost.effort.amount == pytest.approx(1.5 * 60 + 0.75 * 200)
    total = cost.total
    assert total.amount == pytest.approx(14.4445 + 22.365 + 90 + 150)
    assert "effort: consultation_clinician recorded as unknown" in total.missing
    assert "effort: cad_nonclinician not entered" in total.missing
    assert total.text("EUR").startswith("at least 276.81 EUR (missing: ")
    # Without labour rates the effort is missing, not free.
    bare = case_cost([first], fields, rules, LedgerSettings()).total
    assert "effort: segmentation_nonclinician: no labour rate for nonclinician time" in \
        bare.missing
    assert bare.amount == pytest.approx(14.4445 + 22.365)


def test_negative_rates_are_refused_with_the_file_and_key(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    assert run_cli("--home", str(home), "init").code == 0
    config = home / "printharvest.yaml"
    config.write_text(config.read_text() + "ledger:\n  labour_rates: {clinician: -5}\n")
    result = run_cli("--home", str(home), "cases", "list")
    assert result.code == 2 and "labour" in result.err and "printharvest.yaml" in result.err


@pytest.mark.parametrize(("object_type", "parts", "expected"), [
    ("anatomic_model", 1, {"0559T": 1, "0560T": 0}),
    ("anatomic_model", 3, {"0559T": 1, "0560T": 2}),
    ("anatomic_guide", 2, {"0561T": 1, "0562T": 1}),
    ("anatomic_guide", None, {"0561T": 1, "0562T": 0}),
    (None, 4, None),
])
def test_cpt_units_per_case(object_type: str | None, parts: int | None,
                            expected: dict[str, int] | None) -> None:
    assert cpt_units(object_type, parts) == expected


def _facts(month: str, object_type: str | None, parts: int | None) -> CaseFacts:
    day = date.fromisoformat(month + "-15")
    return CaseFacts(id=1, registry_id="PH-1", status="ready", month=month, day=day,
                     organ_system=None, indication=None, object_type=object_type,
                     guide_type=None, part_count=parts, modalities=[], technologies=[],
                     materials=[], effort_minutes={}, effort_states={}, volume_ml=None)


def test_billing_table_counts_units_per_month_against_a_hand_count() -> None:
    facts = [_facts("2026-10", "anatomic_model", 3), _facts("2026-10", "anatomic_model", 1),
             _facts("2026-10", "anatomic_guide", 2), _facts("2026-11", "anatomic_guide", 1),
             _facts("2026-11", None, 2)]
    table = billing_table(facts)
    # October: two models (2 x 0559T, 2 + 0 additional components), one guide of two
    # guides; November: one single guide and one case without a type of object.
    assert table.rows == [["2026-10", 2, 2, 1, 1, 0], ["2026-11", 0, 0, 1, 0, 1]]


def _home_with_jobs(tmp_path: Path) -> App:
    """Demo jobs (under patient-like names) and the Formlabs page, in a home with prices."""
    root = tmp_path / "lab"
    inbox = root / "inbox"
    for job in sorted(DEMO_CASES.iterdir()):
        shutil.copytree(job, inbox / f"{job.name}_{TOKEN}",
                        ignore=shutil.ignore_patterns("*.expected.json"))
    (inbox / f"formlabs_{TOKEN}").mkdir()
    shutil.copy(FORMLABS_PAGE, inbox / f"formlabs_{TOKEN}" / f"{TOKEN}.json")
    home = root / "home"
    home.mkdir()
    shutil.copytree(_priced_rules(root), home / "rules")
    app = App.open(home)
    app.cases.ingest(app.harvester.harvest_paths([inbox]))
    return app


def test_history_export_round_trips_every_print_without_case_keys(tmp_path: Path,
                                                                  run_cli) -> None:  # type: ignore[no-untyped-def]
    app = _home_with_jobs(tmp_path)
    home = app.home.root
    stored = sqlite3.connect(app.home.store_path).execute(
        "SELECT COUNT(*) FROM records WHERE kind = 'print'").fetchone()[0]
    app.close()
    assert stored == 6  # three sliced demo jobs and three Formlabs runs (one aborted)

    result = run_cli("--home", str(home), "export", "prints")
    assert result.code == 0, result.err
    [written] = sorted((home / "exports").glob("prints_*.csv"))
    assert written.stat().st_mode & 0o077 == 0
    text = written.read_text(encoding="utf-8")
    assert TOKEN not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == stored
    outcomes = sorted(r["outcome"] for r in rows)
    assert outcomes.count("aborted") == 1 and outcomes.count("success") == 2
    biomed = next(r for r in rows if r["lots"] == "CRT-31A7, TNK-88B2")
    assert float(biomed["cost"]) == pytest.approx(36.81, abs=0.01)
    assert biomed["printer"] == "Form 3B (radiology)" and biomed["cost missing"] == ""

    result = run_cli("--home", str(home), "export", "prints", "--format", "xlsx",
                     "--from", "2026-11-19", "--to", "2026-11-20", "--with-case-keys")
    assert result.code == 0, result.err
    [book_path] = sorted((home / "exports").glob("prints_*.xlsx"))
    sheet = openpyxl.load_workbook(book_path).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][3] == "case key"
    # the aborted Form 4 run (19 Nov) and the nylon run (20 Nov) fall in the period
    assert sorted(str(v[14]) for v in values[1:]) == ["aborted", "success"]
    assert run_cli("--home", str(home), "export", "prints", "--from", "2026-12-01",
                   "--to", "2026-11-01").code == 2


def test_lot_question_and_retiring_a_record(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = _home_with_jobs(tmp_path)
    home = app.home.root
    formlabs_case = next(r.case_id for r in Ledger(app.store).prints()
                         if r.record.materials and r.record.materials[0].lot)
    app.close()
    found = run_cli("--home", str(home), "prints", "--lot", "tnk-88b2", "--json")
    assert found.code == 0
    [row] = json.loads(found.out)
    assert row["case"] == formlabs_case and row["lots"] == "CRT-31A7, TNK-88B2"
    listing = run_cli("--home", str(home), "prints", "--lot", "CRT-31A7")
    assert f"cases {formlabs_case}" in listing.out
    assert run_cli("--home", str(home), "prints", "--lot", "CRT-3").code == 1  # whole ids only

    record = row["record"]
    refused = run_cli("--home", str(home), "prints", "retire", str(record), "--reason", " ")
    assert refused.code != 0 and "needs a reason" in refused.err
    done = run_cli("--home", str(home), "prints", "retire", str(record), "--reason",
                   "test print filed under the wrong case")
    assert done.code == 0
    again = run_cli("--home", str(home), "prints", "retire", str(record), "--reason", "x")
    assert again.code != 0 and "already retired" in again.err
    after = json.loads(run_cli("--home", str(home), "prints", "--json").out)
    assert len(after) == 6  # still listed: the history is never deleted
    assert next(r for r in after if r["record"] == record)["retired"].endswith(
        "test print filed under the wrong case")
    log = sqlite3.connect(home / "printharvest.db").execute(
        "SELECT action, field, new FROM audit WHERE action = 'retire print record'").fetchall()
    assert log == [("retire print record", f"record {record}",
                    "test print filed under the wrong case")]


def test_case_show_and_report_carry_the_cost(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = _home_with_jobs(tmp_path)
    report = build_report(app)
    by_month = report.table("cost_by_month")
    assert by_month.columns[-1] == "cost (USD)"
    assert sum(r[1] for r in by_month.rows) == report.case_count
    assert report.table("billing_units").rows  # every case is counted in some month
    home = app.home.root
    app.close()
    shown = run_cli("--home", str(home), "cases", "show", "1")
    assert "cost: " in shown.out and "missing" in shown.out


def test_lots_from_moonraker_spoolman_and_job_log_columns(tmp_path: Path) -> None:
    aux = [{"provider": "spoolman", "name": "spool_ids", "value": [3, 7, 3],
            "description": "Spool IDs used", "units": None},
           {"provider": "sensor", "name": "power", "value": 1.2}]
    assert spool_ids(aux) == "3, 7"
    assert spool_ids(json.dumps(aux)) == "3, 7"
    assert spool_ids("not json") is None and spool_ids([{"provider": "spoolman"}]) is None

    rules = tmp_path / "rules"
    (rules / "joblogs").mkdir(parents=True)
    (rules / "joblogs" / "lots.yaml").write_text(
        "name: lot-log\nrecognise: {required_columns: [Printer, Resin, Lot]}\n"
        "columns:\n  Printer: printer.model\n  Resin: material.name\n  Lot: material.lot\n"
        "  Used (mL): {field: material.used_ml, unit: ml}\n")
    log = tmp_path / "jobs.csv"
    log.write_text("Printer,Resin,Lot,Used (mL)\nForm 3B,Clear V4,LOT-2211,12.5\n")
    from printharvest.connectors.base import HarvestContext
    from printharvest.connectors.joblog.connector import JobLogConnector
    from printharvest.connectors.probe import probe_file

    connector = JobLogConnector()
    connector.context = HarvestContext(rules_dir=rules)
    [record] = connector.harvest(probe_file(log))
    assert record.materials[0].lot == "LOT-2211"


def test_case_page_shows_cost_and_lots_but_not_in_the_form(tmp_path: Path) -> None:
    import httpx

    from printharvest.web import create_app
    from tests.support.webserver import serving

    app = _home_with_jobs(tmp_path)
    formlabs_case = next(r.case_id for r in Ledger(app.store).prints()
                         if r.record.materials and r.record.materials[0].lot)
    with serving(create_app(app)) as url:
        page = httpx.get(f"{url}/cases/{formlabs_case}", timeout=30).text
    app.close()
    ledger = page[page.index('id="s-ledger"'):]
    ledger = ledger[:ledger.index("</section>")]
    assert "CRT-31A7, TNK-88B2" in ledger and "Cost" in ledger
    assert "at least" in ledger or "USD" in ledger
    assert 'name="lab.notes"' in page  # the lab's own fields have their section in the form
