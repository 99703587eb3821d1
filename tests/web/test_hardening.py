"""The page under abuse, through a real server on 127.0.0.1: a foreign Host (DNS rebinding),
an oversized body, password guessing, two browsers on one case, a locked store."""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from printharvest.app import App
from printharvest.web import create_app
from printharvest.web.auth import hash_password
from tests.support.webserver import serving
from tests.web.test_web import PASSWORD, csrf_of, open_home


@pytest.fixture
def local(home: Path, sample_jobs_copy: Path) -> Iterator[tuple[App, str]]:
    app = open_home(home, sample_jobs_copy, "web:\n  store_wait_seconds: 0.5\n")
    with serving(create_app(app)) as url:
        yield app, url
    app.close()


def signed_in_home(home: Path, inbox: Path, n: int = 2**10, p: int = 1) -> App:
    users = f'web:\n  users:\n    alice: "{hash_password(PASSWORD, n=n, p=p)}"\n'
    return open_home(home, inbox, users)


def client_from(url: str, address: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections leave from ``address`` (any 127.x address on Linux)."""
    return httpx.Client(base_url=url, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def test_a_foreign_host_name_is_refused(local: tuple[App, str]) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 must not read the case list."""
    _, url = local
    port = url.rsplit(":", 1)[1]
    with httpx.Client(base_url=url, timeout=30) as client:
        for foreign in ("evil.example", f"evil.example:{port}", f"rebind.127.0.0.1.nip.io:{port}",
                        ""):
            answer = client.get("/", headers={"host": foreign})
            assert answer.status_code == 421, foreign
            assert "3DP-2026" not in answer.text
            assert client.get("/cases/1", headers={"host": foreign}).status_code == 421
        for own in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST"):
            assert client.get("/", headers={"host": own}).status_code == 200, own


def test_configured_host_names_are_served(home: Path, sample_jobs_copy: Path) -> None:
    app = open_home(home, sample_jobs_copy, "web:\n  allowed_hosts: [lab-pc.example]\n")
    try:
        with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/", headers={"host": "lab-pc.example:1"}).status_code == 200
            assert client.get("/", headers={"host": "other.example"}).status_code == 421
    finally:
        app.close()


def test_an_oversized_form_gets_413_not_a_traceback(local: tuple[App, str],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    app, url = local
    with httpx.Client(base_url=url, timeout=30) as client:
        token = csrf_of(client.get("/cases/1").text)
        big = {"csrf": token, "_f": "imaging.indication", "imaging.indication": "x" * 2_000_000}
        answer = client.post("/cases/1", data=big)
        assert answer.status_code == 413 and "too large" in answer.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while streaming
            yield f"csrf={token}&".encode()
            for _ in range(200):
                yield b"x" * 10_000

        streamed = client.post("/cases/1", content=chunks(),
                               headers={"content-type": "application/x-www-form-urlencoded"})
        assert streamed.status_code == 413
    with httpx.Client(base_url=url, timeout=30) as client:  # the server is still fine
        assert client.get("/cases/1").status_code == 200
    assert not [r for r in caplog.records if r.exc_info]
    assert app.cases.get(1).value("imaging.indication") is None


def test_failed_sign_ins_are_throttled_per_user_and_address(home: Path,
                                                            sample_jobs_copy: Path) -> None:
    app = signed_in_home(home, sample_jobs_copy)
    try:
        with serving(create_app(app, host="0.0.0.0")) as url:
            with client_from(url, "127.0.0.2") as guesser:
                token = csrf_of(guesser.get("/login").text)
                for attempt in range(5):
                    wrong = guesser.post("/login", data={"csrf": token, "username": "alice",
                                                         "password": f"guess {attempt}"})
                    assert wrong.status_code == 401
                right = guesser.post("/login", data={"csrf": token, "username": "alice",
                                                     "password": PASSWORD})
                assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
            with client_from(url, "127.0.0.3") as elsewhere:  # the user is locked anywhere
                token = csrf_of(elsewhere.get("/login").text)
                locked = elsewhere.post("/login", data={"csrf": token, "username": "alice",
                                                        "password": PASSWORD})
                assert locked.status_code == 429
            with client_from(url, "127.0.0.4") as sprayer:  # many names from one address
                token = csrf_of(sprayer.get("/login").text)
                for number in range(5):
                    sprayer.post("/login", data={"csrf": token, "username": f"user{number}",
                                                 "password": "x"})
                blocked = sprayer.post("/login", data={"csrf": token, "username": "bob",
                                                       "password": "x"})
                assert blocked.status_code == 429
    finally:
        app.close()


@pytest.mark.slow
def test_unknown_users_take_as_long_and_scrypt_runs_off_the_loop(
        home: Path, sample_jobs_copy: Path) -> None:
    app = signed_in_home(home, sample_jobs_copy, n=2**14)
    try:
        with serving(create_app(app, host="0.0.0.0")) as url:
            def timed(user: str, address: str) -> float:
                with client_from(url, address) as client:
                    token = csrf_of(client.get("/login").text)
                    start = time.perf_counter()
                    answer = client.post("/login", data={"csrf": token, "username": user,
                                                         "password": "wrong"})
                    assert answer.status_code == 401
                    return time.perf_counter() - start

            known = statistics.median(timed("alice", f"127.0.1.{i}") for i in range(3))
            unknown = statistics.median(timed(f"nobody{i}", f"127.0.2.{i}") for i in range(3))
            assert unknown > known * 0.4, (known, unknown)

        slow = signed_in_home(home, sample_jobs_copy, n=2**14, p=8)  # ~0.5 s
        with serving(create_app(slow, host="0.0.0.0")) as url:
            finished: dict[str, float] = {}

            def sign_in() -> None:
                with client_from(url, "127.0.3.1") as client:
                    token = csrf_of(client.get("/login").text)
                    client.post("/login", data={"csrf": token, "username": "alice",
                                                "password": PASSWORD}, timeout=60)
                finished["login"] = time.perf_counter()

            thread = threading.Thread(target=sign_in)
            thread.start()
            time.sleep(0.05)
            with client_from(url, "127.0.3.2") as other:
                assert other.get("/static/style.css", timeout=60).status_code == 200
            finished["static"] = time.perf_counter()
            thread.join(60)
            assert finished["static"] < finished["login"]
        slow.close()
    finally:
        app.close()


def test_a_stale_form_is_refused_not_reverting_the_other_edit(local: tuple[App, str]) -> None:
    app, url = local
    with httpx.Client(base_url=url, timeout=30) as first, \
            httpx.Client(base_url=url, timeout=30) as second:
        page_one, page_two = first.get("/cases/1").text, second.get("/cases/1").text
        form = {"_f": "model.purpose"}
        saved = first.post("/cases/1", data={**form, "csrf": csrf_of(page_one),
                                             "_v": _version(page_one),
                                             "model.purpose": "other"})
        assert saved.status_code == 303
        stale = second.post("/cases/1", data={**form, "csrf": csrf_of(page_two),
                                              "_v": _version(page_two),
                                              "model.purpose": "surgical_planning"})
        assert stale.status_code == 409 and "changed elsewhere" in stale.text
        assert app.cases.get(1).value("model.purpose") == "other"
        fresh = second.get("/cases/1").text  # reloaded, the save goes through
        again = second.post("/cases/1", data={**form, "csrf": csrf_of(fresh),
                                              "_v": _version(fresh),
                                              "model.purpose": "surgical_planning"})
        assert again.status_code == 303
        assert app.cases.get(1).value("model.purpose") == "surgical_planning"


def _version(html: str) -> str:
    marker = 'name="_v" value="'
    assert marker in html, "the case form carries its version"
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_a_locked_store_gets_a_bounded_wait_and_a_clear_answer(local: tuple[App, str]) -> None:
    app, url = local
    with httpx.Client(base_url=url, timeout=20) as client:
        page = client.get("/cases/1").text
        blocker = sqlite3.connect(app.home.store_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            answers: dict[str, httpx.Response] = {}

            def save() -> None:
                answers["save"] = client.post("/cases/1", data={
                    "csrf": csrf_of(page), "_f": "imaging.indication",
                    "imaging.indication": "other"})

            thread = threading.Thread(target=save)
            thread.start()
            with httpx.Client(base_url=url, timeout=20) as other:
                assert other.get("/static/style.css").status_code == 200  # the loop is free
            thread.join(30)
            busy = answers["save"]
            assert busy.status_code == 503 and "store is busy" in busy.text
            assert busy.headers["retry-after"]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert app.cases.get(1).value("imaging.indication") is None
        saved = client.post("/cases/1", data={"csrf": csrf_of(page), "_f": "imaging.indication",
                                              "imaging.indication": "other"})
        assert saved.status_code == 303
