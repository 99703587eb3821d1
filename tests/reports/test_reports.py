"""The lab report: every number checked against a direct query of the store, no PHI, renders."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from printharvest.app import App
from printharvest.cli.demo_cmd import NOT_JOB_FILES
from printharvest.dictionary.values import value_label
from printharvest.models import HarvestRecord
from printharvest.reports import build_report, render_csv, render_html
from printharvest.reports.facts import duration_minutes, effort_state, printer_label
from printharvest.reports.tables import months_between
from printharvest.testing.synthetic import fill_synthetic
from tests.support.paths import DEMO_CASES

REPO = Path(__file__).resolve().parents[2]
TOKEN = "ZQXJOBNAME7731"  # planted in folder and file names: must never reach the report


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> App:
    """A store with the sample jobs (under token-bearing names) and 200 synthetic cases."""
    root = tmp_path_factory.mktemp("report")
    inbox = root / "inbox"
    for job in sorted(DEMO_CASES.iterdir()):
        target = inbox / f"{job.name}_{TOKEN}"
        shutil.copytree(job, target, ignore=NOT_JOB_FILES)
        for path in sorted(target.rglob("*")):
            if path.is_file():
                path.rename(path.with_name(f"{TOKEN}_{path.name}"))
    app = App.open(root / "home")
    app.cases.ingest(app.harvester.harvest_paths([inbox]))
    fill_synthetic(app, 200, seed=3)
    return app


def _effective(conn: sqlite3.Connection, field: str) -> dict[int, Any]:
    """field -> value per case, typed values winning, straight from SQL."""
    rows = conn.execute(
        "SELECT case_id, value FROM field_values WHERE field = ? ORDER BY origin = 'user'",
        (field,))
    return {case_id: json.loads(value) for case_id, value in rows}


def _words(app: App, element_id: str, code: object) -> str:
    element = app.dictionary.element(element_id)
    assert element is not None
    return value_label(element, str(code))


def test_numbers_match_direct_queries(filled: App) -> None:
    report = build_report(filled)
    conn = sqlite3.connect(filled.home.store_path)
    cases = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    assert report.case_count == cases

    by_status = {status.replace("_", " "): n for status, n in
                 conn.execute("SELECT status, COUNT(*) FROM cases GROUP BY status")}
    assert report.table("cases_by_status").as_dict() == by_status

    months: Counter[str] = Counter()
    for case_id, created in conn.execute("SELECT id, created_at FROM cases"):
        first = conn.execute(
            "SELECT MIN(json_extract(body, '$.started_at')) FROM records"
            " WHERE case_id = ? AND kind = 'print'", (case_id,)).fetchone()[0]
        months[(first or created)[:7]] += 1
    # Every month between the first and the last is a row; a month without cases is a zero.
    assert {m: n for m, n in report.table("cases_by_month").as_dict().items() if n} \
        == dict(months)
    assert list(report.table("cases_by_month").as_dict()) == months_between(min(months),
                                                                            max(months))

    organs = Counter(_words(filled, "imaging.organ_system", v)
                     for v in _effective(conn, "imaging.organ_system").values())
    organs_report = report.table("cases_by_organ_system").as_dict()
    assert {k: v for k, v in organs_report.items() if k != "not yet set"} == dict(organs)
    assert organs_report.get("not yet set", 0) == cases - sum(organs.values())

    guide_types = _effective(conn, "model.guide_type")
    guides = Counter(_words(filled, "model.guide_type", guide_types[k])
                     if k in guide_types else "not yet set"
                     for k, v in _effective(conn, "model.object_type").items()
                     if v == "anatomic_guide")
    assert report.table("guide_types").as_dict() == dict(guides)

    parts = Counter(_effective(conn, "model.part_count").values())
    assert report.table("parts_per_model").as_dict() == dict(parts)

    effort = report.table("effort_by_kind")
    for kind in ("segmentation_clinician", "cad_nonclinician"):
        values = _effective(conn, f"effort.{kind}").values()
        minutes = [duration_minutes(v) for v in values]
        hours = round(sum(m for m in minutes if m is not None) / 60, 2)
        element = filled.dictionary.element(f"effort.{kind}")
        assert element is not None
        row = effort.as_dict(0, 1)
        assert row[element.label] == hours
        states = [effort_state(v) for v in values]
        unknown = effort.column("recorded as unknown")[effort.column("kind").index(element.label)]
        assert unknown == states.count("unknown")

    printers = report.table("per_printer")
    # Which row a job counts under is the report's naming policy (library label, else a model
    # the rules know); the numbers under each name come straight from SQL.
    bodies = conn.execute("SELECT id, body FROM records WHERE kind = 'print'")
    name_of = {row_id: printer_label(HarvestRecord.model_validate_json(body), filled.rules)
               for row_id, body in bodies}
    sums: dict[str, list[float]] = {}
    for row_id, seconds, ok, judged in conn.execute(
            "SELECT id, COALESCE(json_extract(body, '$.print_duration_s'),"
            " json_extract(body, '$.print_time_s')),"
            " json_extract(body, '$.outcome') = 'success',"
            " json_extract(body, '$.outcome') IN ('success', 'failed', 'aborted')"
            " FROM records WHERE kind = 'print'"):
        totals = sums.setdefault(name_of[row_id], [0, 0.0, 0, 0])
        totals[0] += 1
        totals[1] += seconds or 0
        totals[2] += ok or 0
        totals[3] += judged or 0
    assert sorted(sums) == sorted(printers.column("printer"))
    for printer, (jobs, seconds, ok, judged) in sums.items():
        printer_row = next(r for r in printers.rows if r[0] == printer)
        assert printer_row[1] == jobs
        assert printer_row[2] == pytest.approx(seconds / 3600, abs=0.01)
        assert printer_row[5] == (f"{100 * ok / judged:.0f}%" if judged else "n/a")

    grams = conn.execute(
        "SELECT SUM(json_extract(m.value, '$.used_g')) FROM records,"
        " json_each(json_extract(body, '$.materials')) AS m WHERE kind = 'print'").fetchone()[0]
    total = sum(r[3] for r in printers.rows)
    assert total == pytest.approx(grams, abs=0.1 * len(printers.rows))

    indications = Counter(_words(filled, "imaging.indication", v)
                          for v in _effective(conn, "imaging.indication").values())
    indications_report = report.table("cases_by_indication").as_dict()
    assert {k: v for k, v in indications_report.items() if k != "not yet set"} == dict(indications)

    modalities = _effective(conn, "imaging.modalities")
    by_modality = Counter(m for values in modalities.values() for m in values)
    assert report.table("cases_by_modality").as_dict() == dict(by_modality)
    multi = sum(1 for values in modalities.values() if len(values) > 1)
    assert report.table("multi_modality").rows == [
        [len(modalities), multi, f"{100 * multi / len(modalities):.1f}%"]]

    volumes = [v for v in _effective(conn, "model.volume_ml").values()]
    bins = report.table("model_volume").as_dict()
    assert bins["0-10 mL"] == sum(1 for v in volumes if v < 10)
    assert bins["over 500 mL"] == sum(1 for v in volumes if v >= 500)
    assert sum(bins.values()) == len(volumes)

    organ_of = _effective(conn, "imaging.organ_system")
    tech: Counter[tuple[str, str]] = Counter()
    for (case_id,) in conn.execute("SELECT id FROM cases"):
        techs = {json.loads(v) for (v,) in conn.execute(
            "SELECT value FROM field_values WHERE case_id = ? AND field LIKE 'prints.%.technology'",
            (case_id,))}
        for t in techs:
            organ = (_words(filled, "imaging.organ_system", organ_of[case_id])
                     if case_id in organ_of else "not yet set")
            tech[(organ, _words(filled, "prints.technology", t))] += 1
    crosstab = report.table("technology_by_organ_system")
    for cross_row in crosstab.rows:
        for column, count in zip(crosstab.columns[1:], cross_row[1:], strict=True):
            assert count == tech[(cross_row[0], column)], (cross_row[0], column)

    backlog = {row[0]: row[3] for row in report.table("backlog").rows}
    for case_id, status in conn.execute("SELECT id, status FROM cases"):
        missing = len(filled.cases.get(case_id).missing)
        if status in ("needs_clinical", "rejected") and missing:
            assert backlog[case_id] == missing
        else:
            assert case_id not in backlog

    with_registry = dict(conn.execute(
        "SELECT status, COUNT(*) FROM cases WHERE status IN"
        " ('exported', 'submitted', 'accepted', 'rejected') GROUP BY status"))
    counted = report.table("submissions").as_dict()
    assert {k: v for k, v in counted.items() if v} == with_registry
    conn.close()


def test_period_filter(filled: App) -> None:
    from datetime import date

    whole = build_report(filled)
    march = build_report(filled, date(2026, 3, 1), date(2026, 3, 31))
    assert march.table("cases_by_month").as_dict() == {
        "2026-03": whole.table("cases_by_month").as_dict()["2026-03"]}


def test_html_and_csv_carry_no_names_or_paths(filled: App, tmp_path: Path) -> None:
    report = build_report(filled)
    html = render_html(report)
    text = render_csv(report)
    conn = sqlite3.connect(filled.home.store_path)
    keys = [k for (k,) in conn.execute("SELECT case_key FROM cases")]
    paths = [p for (p,) in conn.execute("SELECT path FROM records")]
    conn.close()
    for output in (html, text):
        assert TOKEN not in output
        assert str(filled.home.root) not in output and "/tmp" not in output
        for key in keys:
            assert key not in output
        for path in paths:
            assert path not in output
    # Self-contained: nothing fetched when the file is opened.
    assert "<script" not in html and "<link" not in html
    assert 'src="http' not in html and 'href="http' not in html
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["table", "title", "row", "column", "value"]
    assert all(len(r) == 5 for r in rows)


@pytest.mark.slow
def test_report_command_and_screenshot(filled: App, run_cli) -> None:  # type: ignore[no-untyped-def]
    out = REPO / "test-artifacts" / "report.html"
    result = run_cli("--home", str(filled.home.root), "report", "--out", str(out))
    assert result.code == 0, result.err
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 8 and "Printers" in html
    csv_out = run_cli("--home", str(filled.home.root), "report", "--format", "csv",
                      "--out", str(out.with_suffix(".csv")))
    assert csv_out.code == 0
    assert run_cli("--home", str(filled.home.root), "report", "--from", "2026-13-01").code == 2
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    shot = out.with_suffix(".png")
    shot.unlink(missing_ok=True)
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={out.parent / 'chromium-profile'}", f"--screenshot={shot}",
         "--window-size=1200,2400", out.as_uri()],
        capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_invalid_words_and_unknown_effort(home: Path, sample_jobs_copy: Path) -> None:
    app = App.open(home)
    try:
        app.cases.ingest(app.harvester.harvest_paths([sample_jobs_copy], grouping="case"))
        first, second = app.cases.list()[:2]
        # Stored by an older version that took any word: never a category of its own.
        app.store.set_user_field(first.id, "imaging.organ_system", "kardiac", "cli:old")
        app.store.set_user_field(first.id, "imaging.modalities", ["CT", "XR"], "cli:old")
        app.cases.set_values(first.id, {"effort.cad_clinician": "unknown"}, "cli:test")
        app.cases.set_values(second.id, {"effort.cad_clinician": {"hours": 1, "minutes": 30}},
                             "cli:test")
        report = build_report(app)
        organs = report.table("cases_by_organ_system").as_dict()
        assert "kardiac" not in organs and organs["not a registry value"] == 1
        modalities = report.table("cases_by_modality").as_dict()
        assert "XR" not in modalities and modalities["not a registry value"] == 1
        effort = report.table("effort_by_kind")
        row = next(r for r in effort.rows if r[0] == "CAD (clinician)")
        total = report.case_count
        assert row == ["CAD (clinician)", 1.5, 1, 1, total - 2]
        assert "kardiac" not in render_html(report)
    finally:
        app.close()


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_report_files_are_owner_only(home: Path, run_cli, fmt: str) -> None:  # type: ignore[no-untyped-def]
    # The home's export files are 0600 (README): the report names the lab's cases too.
    App.open(home).close()
    assert run_cli("--home", str(home), "report", "--format", fmt).code == 0
    assert run_cli("--home", str(home), "report", "--format", fmt,
                   "--out", str(home / f"chosen.{fmt}")).code == 0
    written = [*(home / "exports").glob(f"report-*.{fmt}"), home / f"chosen.{fmt}"]
    assert len(written) == 2
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in written)
