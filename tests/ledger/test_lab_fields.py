"""Lab-only fields: shown and filterable, never in an upload file, payload or exported JSON."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.dictionary.elements import Dictionary
from printharvest.exceptions import ConfigError, EgressError
from printharvest.privacy.egress import EgressGuard, release
from tests.support.registry import CLINICAL, harvested_home, make_ready

NAME = "Dr Quillfeather"  # planted: a requesting clinician's name
NOTE = "ZQXLABNOTE5521"


def test_lab_fields_join_the_dictionary_in_their_own_section() -> None:
    dictionary = Dictionary.load(None)
    lab = [e for e in dictionary.elements if e.lab_only]
    assert {e.id for e in lab} >= {"lab.requesting_service", "lab.requesting_clinician",
                                  "lab.cost_centre", "lab.due_date", "lab.notes"}
    assert {e.section for e in lab} == {"lab"} and dictionary.sections[-1].id == "lab"
    assert not any(e.required for e in lab)


def test_a_lab_field_outside_lab_is_refused_with_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules" / "registry"
    rules.mkdir(parents=True)
    (rules / "lab_fields.yaml").write_text(
        "section: {id: lab, label: Lab}\nelements:\n  - {id: imaging.notes, label: Notes}\n")
    with pytest.raises(ConfigError) as info:
        Dictionary.load(tmp_path / "rules")
    assert "lab_fields.yaml:3" in str(info.value)


def test_lab_fields_never_leave_and_the_gate_refuses_them(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    values = {**CLINICAL, "lab.requesting_clinician": NAME, "lab.notes": NOTE,
              "lab.cost_centre": "CARD-12"}
    app = harvested_home(tmp_path / "home")
    make_ready(app, values)
    case = app.cases.get(1)
    assert case.value("lab.notes") == NOTE and case.status == "ready"
    home = app.home.root
    app.close()

    listed = run_cli("--home", str(home), "cases", "list", "--where", "lab.cost_centre=card-12",
                     "--json")
    assert listed.code == 0 and len(json.loads(listed.out)) == 3  # every demo case
    none = run_cli("--home", str(home), "cases", "list", "--where", "lab.cost_centre=OTHER")
    assert "no matching cases" in none.out
    assert run_cli("--home", str(home), "cases", "list", "--where", "nonsense").code == 2

    for fmt in ("psv", "xlsx", "json", "sheet"):
        again = App.open(home)
        make_ready(again, values)  # an export moves the cases on: make them ready again
        again.close()
        result = run_cli("--home", str(home), "export", "--format", fmt)
        assert result.code == 0 and "wrote" in result.out, (fmt, result.err)
    report = run_cli("--home", str(home), "report", "--where", "lab.cost_centre=CARD-12")
    assert report.code == 0 and "(3 case(s))" in report.out
    written = [p for p in (home / "exports").rglob("*") if p.is_file()]
    assert len(written) >= 5
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                data = b"".join(book.read(n) for n in book.namelist())
        for token in (NAME.encode(), NOTE.encode(), b"CARD-12"):
            assert token not in data, (path.name, token)

    # Should a lab put a lab field into its upload layout, the egress gate refuses the file.
    app = harvested_home(tmp_path / "other")
    make_ready(app, {**CLINICAL, "lab.notes": NOTE})
    guard = EgressGuard.for_cases([app.cases.get(1)])
    with pytest.raises(EgressError):
        release(f"1|ready|{NOTE}\r\n".encode(), guard, "upload file 1")
    app.close()
