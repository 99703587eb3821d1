"""The case page over HTTP: words not codes, and an accepted case changes only with a reason."""

from __future__ import annotations

from pathlib import Path

import httpx

from printharvest.app import App
from printharvest.cases.status import move
from printharvest.web import create_app
from tests.support.registry import CLINICAL
from tests.support.webserver import serving
from tests.web.test_web import csrf_of


def test_words_not_codes_and_reason_for_an_accepted_case(home: Path,
                                                         sample_jobs_copy: Path) -> None:
    app = App.open(home)
    try:
        app.cases.ingest(app.harvester.harvest_paths([sample_jobs_copy], grouping="case"))
        case = next(c for c in app.cases.list() if c.case_key == "3DP-2026-002")
        with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=30) as client:
            page = client.get(f"/cases/{case.id}").text
            assert ">Surgical planning</option>" in page  # a choice in words
            assert ">Female</option>" in page and ">5 strongly agree</option>" in page
            assert "print_time_s" not in page and "Print 1: print time" in page
            assert 'aria-required="true"' in page
            assert page.count('role="alert"') == 0  # first open: calm

            app.cases.set_values(case.id, dict(CLINICAL), "tester")
            for status in ("ready", "exported", "submitted", "accepted"):
                with app.store.transaction():
                    move(app.store, case.id, status, "tester")
            page = client.get(f"/cases/{case.id}").text
            assert 'id="reason"' in page
            form = {"csrf": csrf_of(page), "_f": ["procedure.time_saved_minutes"],
                    "procedure.time_saved_minutes": "45"}
            refused = client.post(f"/cases/{case.id}", data=form)
            assert refused.status_code == 422 and "Say why below" in refused.text
            assert app.cases.get(case.id).status == "accepted"
            client.post(f"/cases/{case.id}", data={**form, "reason": "new estimate"})
            again = app.cases.get(case.id)
            assert again.value("procedure.time_saved_minutes") == 45
            assert again.status == "ready"
            assert any(e["action"] == "reason" and e["new"] == "new estimate"
                       for e in app.cases.audit(case.id))
    finally:
        app.close()
