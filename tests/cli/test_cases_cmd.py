"""``cases set / validate / ready / resolve / log`` from the terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

from printharvest.dictionary.elements import Dictionary
from printharvest.dictionary.validation import format_value
from tests.support.cases import valid_value


def test_set_validate_ready(home: Path, sample_jobs_copy: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    h = ("--home", str(home))
    assert run_cli(*h, "ingest", str(sample_jobs_copy)).code == 0
    result = run_cli(*h, "cases", "validate", "2")
    assert result.code == 1
    lines = result.out.strip().splitlines()
    assert "model.guide_type: Guide type is required: one of Cutting, Drilling, Positioning, "\
           "Implant placement, Other (because Type of object is Anatomic guide)" in lines
    refused = run_cli(*h, "cases", "ready", "2")
    assert refused.code == 1 and "is not ready" in refused.err
    assert refused.out.strip().splitlines() == lines

    bad = run_cli(*h, "cases", "set", "2", "imaging.study_count=many")
    assert bad.code == 1 and "imaging.study_count: 'many' is not a whole number" in bad.err
    unknown = run_cli(*h, "cases", "set", "2", "imaging.bogus=1")
    assert unknown.code == 2 and "imaging.bogus: not an element" in unknown.err
    assert run_cli(*h, "cases", "set", "2", "no-equals-sign").code == 2
    warned = run_cli(*h, "cases", "set", "2", "imaging.patient_age=120")
    assert warned.code == 1 and "expected a whole number from 0 to 90" in warned.err

    dictionary = Dictionary.load(None)
    shown = json.loads(run_cli(*h, "cases", "show", "2", "--json").out)
    assignments = []
    for name in shown["missing"] + ["imaging.patient_age"]:
        ref = dictionary.resolve(name)
        assert ref is not None
        assignments.append(f"{name}={format_value(ref.element, valid_value(ref.element))}")
    assignments.append("effort.cad_clinician=unknown")
    done = run_cli(*h, "cases", "set", "2", *assignments)
    assert done.code == 0, done.err
    assert run_cli(*h, "cases", "validate", "2").out.strip() == "case 2: valid"
    ready = run_cli(*h, "cases", "ready", "2")
    assert ready.code == 0 and ready.out.strip() == "case 2: ready"
    listing = json.loads(run_cli(*h, "cases", "list", "--json", "--status", "ready").out)
    assert [c["id"] for c in listing] == [2] and listing[0]["missing"] == []
    shown = json.loads(run_cli(*h, "cases", "show", "2", "--json").out)
    assert shown["fields"]["effort.cad_clinician"]["value"] == "unknown"
    assert shown["fields"]["effort.cad_clinician"]["provenance"]["origin"] == "user"

    # Clearing a required clinical value sends the case back.
    assert run_cli(*h, "cases", "set", "2", "procedure.use=").code == 0
    assert json.loads(run_cli(*h, "cases", "show", "2", "--json").out)["status"] \
        == "needs_clinical"
    log = run_cli(*h, "cases", "log", "2").out
    assert "needs_clinical" in log and "procedure.use" in log
    table = run_cli(*h, "cases", "list", "--search", "001").out
    assert "3DP-2026-001" in table and "3DP-2026-002" not in table


def test_editing_an_accepted_case_asks_for_a_reason(home: Path, sample_jobs_copy: Path,
                                                    run_cli) -> None:  # type: ignore[no-untyped-def]
    from printharvest.app import App
    from printharvest.cases.status import move
    from tests.support.registry import CLINICAL

    h = ("--home", str(home))
    assert run_cli(*h, "ingest", str(sample_jobs_copy)).code == 0
    app = App.open(home)
    try:
        app.cases.set_values(1, dict(CLINICAL), "tester")
        for status in ("ready", "exported", "submitted", "accepted"):
            with app.store.transaction():
                move(app.store, 1, status, "tester")
    finally:
        app.close()
    # No reason typed at the prompt: refused, nothing changes.
    refused = run_cli(*h, "cases", "set", "1", "procedure.time_saved_minutes=30")
    assert refused.code == 1 and "sends it again as an update" in refused.err
    assert json.loads(run_cli(*h, "cases", "show", "1", "--json").out)["status"] == "accepted"
    done = run_cli(*h, "cases", "set", "1", "procedure.time_saved_minutes=30",
                   "--reason", "surgeon corrected the estimate")
    assert done.code == 0, done.err
    shown = json.loads(run_cli(*h, "cases", "show", "1", "--json").out)
    assert shown["status"] == "ready"  # goes again as an update
    log = run_cli(*h, "cases", "log", "1").out
    assert "surgeon corrected the estimate" in log


def test_set_reports_every_refused_value(home: Path, sample_jobs_copy: Path,
                                         run_cli) -> None:  # type: ignore[no-untyped-def]
    h = ("--home", str(home))
    assert run_cli(*h, "ingest", str(sample_jobs_copy)).code == 0
    result = run_cli(*h, "cases", "set", "2", "imaging.indication=nonsense",
                     "imaging.patient_age=many", "imaging.organ_system=cardiac")
    assert result.code == 1
    assert "imaging.indication: Indication (clinical condition) is 'nonsense'" in result.err
    assert "imaging.patient_age: 'many' is not a whole number" in result.err
    assert "2 value(s) refused; nothing was set" in result.err
    shown = json.loads(run_cli(*h, "cases", "show", "2", "--json").out)
    assert "imaging.organ_system" not in shown["fields"]
    # A choice may be typed in words.
    assert run_cli(*h, "cases", "set", "2", "model.purpose=Surgical planning").code == 0
    shown = json.loads(run_cli(*h, "cases", "show", "2", "--json").out)
    assert shown["fields"]["model.purpose"]["value"] == "surgical_planning"


def test_show_speaks_in_words_and_json_keeps_codes(home: Path, sample_jobs_copy: Path,
                                                   run_cli) -> None:  # type: ignore[no-untyped-def]
    h = ("--home", str(home))
    assert run_cli(*h, "ingest", str(sample_jobs_copy)).code == 0
    assert run_cli(*h, "cases", "set", "1", "imaging.indication=other",
                   "effort.cad_clinician=1h30m").code == 0
    out = run_cli(*h, "cases", "show", "1").out
    assert "[needs clinical]" in out.splitlines()[0]
    indication = next(line for line in out.splitlines() if "imaging.indication" in line)
    assert indication.startswith("Indication (clinical condition)") and " Other " in indication
    effort = next(line for line in out.splitlines() if "effort.cad_clinician" in line)
    assert " 1 h 30 min " in effort and "5400" not in effort and "90" not in effort.split()
    # a harvested fact outside the dictionary: its label and unit, never seconds
    timing = next(line for line in out.splitlines() if "prints.1.print_time_s" in line)
    assert timing.startswith("Print 1: print time") and " min " in timing
    volume = next(line for line in out.splitlines() if "model.volume_ml" in line)
    assert " mL " in volume
    # local times, not UTC stamps
    assert "typed by " in indication and re.search(r"\d{4}-\d\d-\d\dT", indication) is None
    shown = json.loads(run_cli(*h, "cases", "show", "1", "--json").out)
    assert shown["fields"]["imaging.indication"]["value"] == "other"
    assert shown["fields"]["effort.cad_clinician"]["value"] == {"hours": 1, "minutes": 30}
    assert shown["status"] == "needs_clinical"
