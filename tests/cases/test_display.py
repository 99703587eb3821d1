"""Provenance and the missing-field split are worded once, for the terminal and the page."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from printharvest.app import App
from printharvest.cases.display import (
    CLINICAL_LABEL,
    HARVESTABLE_LABEL,
    provenance_text,
    split_missing,
)
from printharvest.cases.model import FieldValue, Provenance
from printharvest.web import create_app
from tests.support.cli import CliResult
from tests.support.webserver import serving


def test_provenance_words() -> None:
    typed = FieldValue(value=1, provenance=Provenance(origin="user", actor="dm", at="T"))
    assert provenance_text(typed) == "typed by dm, T"  # not a stamp: shown as given
    harvested = FieldValue(value=2, provenance=Provenance(
        origin="harvest", connector="stl", path="/h/archive/a.stl", sha256="ab" * 32, index=0,
        rule="printers.yaml#3"))
    assert provenance_text(harvested, home="/h") == (
        "harvested by stl · archive/a.stl · rule printers.yaml#3")
    hidden = provenance_text(harvested, show_paths=False)
    assert hidden == f"harvested by stl · record {'ab' * 6} · rule printers.yaml#3"
    assert "a.stl" not in hidden
    assert provenance_text(None) == ""


def test_terminal_and_page_say_the_same(home: Path, sample_jobs_copy: Path,
                                        run_cli: Callable[..., CliResult]) -> None:
    app = App.open(home)
    app.cases.ingest(app.harvester.harvest_paths([sample_jobs_copy], grouping="case"))
    case = app.cases.get(1)
    missing = split_missing(case, app.dictionary)
    assert missing.clinical and set(missing.clinical) | set(missing.harvestable) == set(
        case.missing)
    expected = {provenance_text(fv, home=str(app.home.root)) for fv in case.fields.values()}
    shown = run_cli("--home", str(home), "cases", "show", "1")
    assert shown.code == 0
    assert all(text in shown.out for text in expected)
    assert f"{CLINICAL_LABEL}: {', '.join(missing.clinical)}" in shown.out
    listed = run_cli("--home", str(home), "cases", "list")
    assert CLINICAL_LABEL in listed.out and HARVESTABLE_LABEL in listed.out
    with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=30) as client:
        page = html.unescape(client.get("/cases/1").text)
        listing = client.get("/").text
    app.close()
    on_page = set(re.findall(r'<span class="prov">([^<]+)</span>', page))
    # every value the form shows (the form shows the registry's elements, not lab-only
    # figures) carries the very words the terminal prints
    assert len(on_page) >= 3 and on_page <= expected
    assert CLINICAL_LABEL.capitalize() in listing and HARVESTABLE_LABEL.capitalize() in listing
