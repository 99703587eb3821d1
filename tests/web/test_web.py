"""The web page over a real HTTP server on 127.0.0.1: CSRF, login, privacy, dictionary swap."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from printharvest.app import App
from printharvest.exceptions import ConfigError
from printharvest.web import create_app
from printharvest.web.auth import hash_password, verify_password
from tests.dictionary.test_dictionary import ALT
from tests.support.webserver import serving

PASSWORD = "correct horse battery"


def open_home(home: Path, inbox: Path, web: str = "") -> App:
    if web:
        (home / "printharvest.yaml").write_text(web, encoding="utf-8")
    app = App.open(home)
    app.cases.ingest(app.harvester.harvest_paths([inbox], grouping="case"))
    return app


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "every form carries a CSRF token"
    return found.group(1)


@pytest.fixture
def local(home: Path, sample_jobs_copy: Path) -> Iterator[tuple[App, str]]:
    app = open_home(home, sample_jobs_copy)
    with serving(create_app(app)) as url:
        yield app, url
    app.close()


def test_loopback_forms_need_the_csrf_token(local: tuple[App, str]) -> None:
    app, url = local
    with httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/cases/1")
        assert page.status_code == 200
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        token = csrf_of(page.text)
        form = {"_f": "imaging.indication", "imaging.indication": "other"}
        assert client.post("/cases/1", data=form).status_code == 403
        assert client.post("/cases/1", data={**form, "csrf": "forged"}).status_code == 403
        cross = client.post("/cases/1", data={**form, "csrf": token},
                            headers={"origin": "http://evil.example"})
        assert cross.status_code == 403
        assert app.cases.get(1).value("imaging.indication") is None
        saved = client.post("/cases/1", data={**form, "csrf": token})
        assert saved.status_code == 303 and saved.headers["location"] == "/cases/1?m=saved"
        assert app.cases.get(1).value("imaging.indication") == "other"
        missing = client.get("/cases/99")
        assert missing.status_code == 404 and "there is no case 99" in missing.text
        listing = client.get("/", params={"status": "needs_clinical", "q": "002"})
        assert "3DP-2026-002" in listing.text and "3DP-2026-001" not in listing.text
        # On loopback the lab sees its own file references.
        assert "mandible_guide.stl" in client.get("/cases/2").text
    with httpx.Client(base_url=url, timeout=30) as stranger:  # another browser: another token
        assert stranger.post("/cases/1", data={**form, "csrf": token}).status_code == 403


def test_elsewhere_requires_login_and_hides_paths(home: Path, sample_jobs_copy: Path) -> None:
    users = f'web:\n  users:\n    alice: "{hash_password(PASSWORD, n=2**10)}"\n'
    app = open_home(home, sample_jobs_copy, users)
    try:
        with serving(create_app(app, host="0.0.0.0")) as url, \
                httpx.Client(base_url=url, timeout=30) as client:
            first = client.get("/cases/2")
            assert first.status_code == 303 and first.headers["location"].startswith("/login")
            login = client.get("/login")
            token = csrf_of(login.text)
            wrong = client.post("/login", data={"csrf": token, "username": "alice",
                                                "password": "nope"})
            assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
            assert client.post("/login", data={"username": "alice",
                                               "password": PASSWORD}).status_code == 403
            ok = client.post("/login", data={"csrf": token, "username": "alice",
                                             "password": PASSWORD, "next": "/cases/2"})
            assert ok.status_code == 303 and ok.headers["location"] == "/cases/2"
            page = client.get("/cases/2")
            assert page.status_code == 200
            for secret in ("mandible_guide", str(sample_jobs_copy), str(home), "3DP-2026-002_"):
                assert secret not in page.text
            assert "rule anatomy.yaml#mandible" in page.text
            token = csrf_of(page.text)
            client.post("/cases/2", data={"csrf": token, "_f": "procedure.use",
                                          "procedure.use": "not_used"})
            assert app.cases.audit(2)[-1]["actor"] == "web:alice"
            client.post("/logout", data={"csrf": token})
            assert client.get("/").status_code == 303
    finally:
        app.close()


def test_elsewhere_without_users_refuses_to_start(home: Path, sample_jobs_copy: Path) -> None:
    app = open_home(home, sample_jobs_copy)
    try:
        with pytest.raises(ConfigError, match="needs a login"):
            create_app(app, host="0.0.0.0")
    finally:
        app.close()


def test_password_hash_and_users_command(run_cli) -> None:  # type: ignore[no-untyped-def]
    stored = hash_password("s3cret-pass", n=2**10)
    assert verify_password("s3cret-pass", stored) and not verify_password("other", stored)
    assert not verify_password("x", "plain-text")
    result = run_cli("users", "hash", "bob", "--password", "long enough pw")
    assert result.code == 0
    line = result.out.strip().splitlines()[-1]
    assert line.startswith('bob: "scrypt$')
    assert verify_password("long enough pw", line.split('"')[1])
    assert run_cli("users", "hash", "bob", "--password", "short").code == 2


def test_another_dictionary_changes_the_form(home: Path, sample_jobs_copy: Path) -> None:
    (home / "rules" / "registry").mkdir(parents=True)
    shutil.copyfile(ALT, home / "rules" / "registry" / "dictionary.yaml")
    app = open_home(home, sample_jobs_copy)
    try:
        case = app.cases.get(1)
        assert case.missing == ["patient.consent", "device.kind", "pieces.1.colour",
                                "pieces.1.build_time", "pieces.2.colour", "pieces.2.build_time"]
        with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=30) as client:
            page = client.get("/cases/1").text
            assert "Consent recorded" in page and "Piece 2" in page and "Add piece 3" in page
            assert "Imaging modalities" not in page and "Anatomic part" not in page
            token = csrf_of(page)
            client.post("/cases/1", data={"csrf": token, "_f": ["device.kind"],
                                          "device.kind": "implant"})
            page = client.get("/cases/1?m=saved").text
            assert "Implant class is required" in page
            # Opened afresh, the same gap is a calm entry of the "still to fill" list.
            page = client.get("/cases/1").text
            assert "Implant class is required" not in page
            assert '<a href="#f-device-implant_class">Implant class</a>' in page
    finally:
        app.close()


def test_report_page_and_csv(local: tuple[App, str]) -> None:
    _, url = local
    with httpx.Client(base_url=url, timeout=30) as client:
        assert 'href="/report"' in client.get("/").text
        page = client.get("/report")
        assert page.status_code == 200
        assert "<svg" in page.text and "Cases by month" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert "3DP-2026" not in page.text  # case keys (folder names) never appear
        narrow = client.get("/report", params={"from": "2000-01-01", "to": "2000-01-31"})
        assert "0 case(s)" in narrow.text
        assert client.get("/report", params={"from": "31/01/2000"}).status_code == 400
        table = client.get("/report.csv")
        assert table.headers["content-type"].startswith("text/csv")
        assert table.text.splitlines()[0] == "table,title,row,column,value"
