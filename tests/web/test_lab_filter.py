"""The case list and the report page filtered by a lab field's value, over a real server:
only matching cases, paging keeps the filter, and the value never reaches the report."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx

from printharvest.app import App
from printharvest.cases.filters import case_matches
from printharvest.reports import build_report, render_csv
from printharvest.store.case_list import CaseQuery, find_cases
from printharvest.testing.synthetic import fill_synthetic
from printharvest.web import create_app
from tests.support.webserver import serving

TOKEN = "ZQXCC7731"  # planted: a cost centre, the lab's own word


def _ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/cases/(\d+)">', page)]


def _next(page: str) -> str:
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    assert found, "no next page link"
    return html.unescape(found.group(1))


def test_list_and_report_filter_by_a_lab_field(home: Path) -> None:
    app = App.open(home)
    try:
        fill_synthetic(app, 130, seed=7)
        ids = sorted(c.id for c in app.cases.list())
        tagged = ids[::2]  # 65 cases: more than one page
        for case_id in tagged:
            app.cases.set_values(case_id, {"lab.cost_centre": TOKEN}, "tester", reason="test")
        app.cases.set_values(ids[1], {"lab.cost_centre": "OTHER-1"}, "tester", reason="test")
        where = {"lab.cost_centre": TOKEN}
        matching = sorted(c.id for c in app.cases.list() if case_matches(c, where))
        assert matching == tagged
        # The SQL filter follows case_matches: trimmed and case-insensitive.
        lower = CaseQuery(field="lab.cost_centre", value=f" {TOKEN.lower()} ", per_page=500)
        assert find_cases(app.store, lower).ids == tagged
        expected = build_report(app, None, None, where)
        whole = build_report(app)
        assert expected.case_count == len(tagged) < whole.case_count

        params = {"lab_field": "lab.cost_centre", "lab_value": TOKEN.lower()}
        with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=30) as client:
            first = client.get("/", params=params).text
            assert 'id="lab_field"' in first and '<label for="lab_value">' in first
            assert _ids(first) == tagged[:50] and f"{len(tagged)} case(s)" in first
            second = client.get(_next(first)).text
            assert "lab_field=lab.cost_centre" in _next(first)
            assert _ids(second) == tagged[50:]
            # Sorting keeps the filter too.
            newest = client.get("/", params={**params, "sort": "id", "dir": "desc"}).text
            assert _ids(newest) == sorted(tagged, reverse=True)[:50]
            none = client.get("/", params={**params, "lab_value": "NOPE"}).text
            assert _ids(none) == [] and "No cases match" in none
            # Only lab fields filter: another field is no filter.
            other = client.get("/", params={"lab_field": "imaging.organ_system",
                                            "lab_value": "x"}).text
            assert _ids(other) == ids[:50]

            report = client.get("/report", params=params)
            assert report.status_code == 200
            assert f"{len(tagged)} case(s) (filtered by case fields)" in report.text
            csv = client.get("/report.csv", params=params)
            assert csv.status_code == 200
            assert csv.text.replace("\r\n", "\n") \
                == render_csv(expected).replace("\r\n", "\n")
            assert csv.text != client.get("/report.csv").text
            for text in (report.text, csv.text):
                assert TOKEN.casefold() not in text.casefold()
                assert "cost_centre" not in text and "Cost centre" not in text
            unfiltered = client.get("/report").text
            assert f"{whole.case_count} case(s)" in unfiltered
            assert "filtered by case fields" not in unfiltered
    finally:
        app.close()
