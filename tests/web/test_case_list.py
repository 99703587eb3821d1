"""The case list: filters, sorting and pages read in SQL, over a real store and server."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from printharvest.app import App
from printharvest.store.case_list import CaseQuery, filter_choices, find_cases
from printharvest.testing.synthetic import fill_synthetic
from printharvest.web import create_app
from tests.support.webserver import serving


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/cases/(\d+)">', html)]


def test_filters_sort_and_pages(home: Path) -> None:
    app = App.open(home)
    try:
        fill_synthetic(app, 130, seed=5)
        cases = app.cases.list()
        organ_of = {c.id: c.value("imaging.organ_system") for c in cases}
        organ = next(v for v in organ_of.values() if v)
        with_organ = sorted(i for i, v in organ_of.items() if v == organ)
        assert find_cases(app.store, CaseQuery(organ_system=organ, per_page=500)).ids \
            == with_organ
        printer = filter_choices(app.store)["printer"][0]
        with_printer = sorted(c.id for c in cases if printer in [
            c.value(n) for n in c.fields if n.endswith(".printer_label")])
        assert find_cases(app.store, CaseQuery(printer=printer, per_page=500)).ids \
            == with_printer
        ready = sorted(c.id for c in cases if c.status == "ready")
        assert find_cases(app.store, CaseQuery(status="ready", per_page=500)).ids == ready

        with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=30) as client:
            first = client.get("/").text
            assert len(_ids(first)) == 50 and "page 1 of 3" in first
            assert _ids(first) == sorted(c.id for c in cases)[:50]
            last = client.get("/", params={"page": 3}).text
            assert _ids(last) == sorted(c.id for c in cases)[100:]
            newest = client.get("/", params={"sort": "id", "dir": "desc"}).text
            assert _ids(newest)[0] == max(c.id for c in cases)
            assert 'aria-sort="descending"' in newest
            filtered = client.get("/", params={"organ_system": organ}).text
            assert _ids(filtered) == with_organ[:50]
            month = filter_choices(app.store)["month"][0]
            in_month = sorted(c.id for c in cases if c.created_at.startswith(month))
            assert _ids(client.get("/", params={"month": month}).text) == in_month[:50]
            # A month the list does not offer is no filter (not an empty page).
            assert len(_ids(client.get("/", params={"month": "1999-01"}).text)) == 50
            assert client.get("/", params={"page": "x"}).status_code == 200
    finally:
        app.close()
