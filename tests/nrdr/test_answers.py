"""Registry answers that are not what they should be, through a real proxy in front of the
emulator: an unreadable success, and Retry-After values that are not usable numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import yaml

from printharvest.nrdr.client import NrdrClient, retry_after_seconds
from printharvest.nrdr.config import NrdrConfig
from printharvest.nrdr.emulator import EmulatorServer
from printharvest.store.outbox import Outbox
from tests.nrdr.test_nrdr import browser, configure, emulator  # noqa: F401 (fixtures)
from tests.support.proxy import Answer, proxy
from tests.support.registry import harvested_home, make_ready


def through(home: Path, proxy_url: str) -> None:
    """Send the home's API calls (not the sign-in) through the proxy."""
    config = yaml.safe_load((home / "printharvest.yaml").read_text())
    config["nrdr"]["environments"]["emulator"]["api_base"] = f"{proxy_url}/api/3dp"
    (home / "printharvest.yaml").write_text(yaml.safe_dump(config))


def test_an_unreadable_success_is_unknown_until_the_registry_says(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    spoiled: list[str] = []

    def spoil(method: str, path: str, status: int, headers: dict[str, str],
              body: bytes) -> Answer:
        if method == "POST" and path.endswith("/transactions") and 200 <= status < 300:
            spoiled.append(path)
            return status, {"Content-Type": "application/json"}, body[: len(body) // 2]
        return status, headers, body

    upstream = f"http://127.0.0.1:{emulator.server_address[1]}"
    with proxy(upstream, spoil) as url:
        through(home, url)
        result = run_cli("--home", str(home), "submit")
    assert len(spoiled) == len(ids)
    assert "rejected" not in result.out, result.out
    assert all(app.cases.get(i).status == "accepted" for i in ids), result.out + result.err
    registry_ids = {app.cases.get(i).registry_id for i in ids}
    assert emulator.state.accepted_per_case() == dict.fromkeys(registry_ids, 1)
    assert {r.state for r in Outbox(app.store).all_rows()} == {"accepted"}


def test_an_unreadable_success_the_registry_does_not_list_stays_open(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0

    def blind(method: str, path: str, status: int, headers: dict[str, str],
              body: bytes) -> Answer:
        if method == "POST" and path.endswith("/transactions"):
            return 200, {"Content-Type": "text/html"}, b"<html>proxy error page</html>"
        if method == "GET" and "idempotencyKey=" in path:
            return 404, {"Content-Type": "application/json"}, b'{"error": "not_found"}'
        return status, headers, body

    upstream = f"http://127.0.0.1:{emulator.server_address[1]}"
    with proxy(upstream, blind) as url:
        through(home, url)
        first = run_cli("--home", str(home), "submit")
    assert "could not be read" in first.out + first.err
    assert all(app.cases.get(i).status != "rejected" for i in ids)
    assert {r.state for r in Outbox(app.store).all_rows()} == {"failed"}
    configure(home, emulator)  # the proxy is gone: the next submit resumes the same keys
    again = run_cli("--home", str(home), "submit")
    assert all(app.cases.get(i).status == "accepted" for i in ids), again.out + again.err
    assert len(emulator.state.transactions) == len(ids)


def test_retry_after_that_is_not_a_usable_number_is_bounded(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    values = iter(["NaN", "-5", "1e308", "inf", "soon", "nan"])

    def slow_down(method: str, path: str, status: int, headers: dict[str, str],
                  body: bytes) -> Answer:
        value = next(values, None)
        if value is not None:
            return 429, {"Retry-After": value, "Content-Type": "application/json"}, b"{}"
        return status, headers, body

    upstream = f"http://127.0.0.1:{emulator.server_address[1]}"
    with proxy(upstream, slow_down) as url:
        through(home, url)
        result = run_cli("--home", str(home), "submit")
    assert result.code == 0 and "internal error" not in result.err, result.err
    assert all(app.cases.get(i).status == "accepted" for i in ids)


@pytest.mark.parametrize(("header", "expected"), [
    ("NaN", None), ("nan", None), ("inf", None), ("-inf", None), ("soon", None), ("", None),
    ("-5", -5.0), ("2.5", 2.5), ("1e308", 1e308)])
def test_retry_after_values(header: str, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected


def test_backoff_stays_within_its_bounds() -> None:
    settings = NrdrConfig.model_validate({"retry_base_seconds": 1, "retry_max_seconds": 30})
    client = NrdrClient.__new__(NrdrClient)
    client.settings = settings
    for header in ("NaN", "-5", "1e308", "inf", "garbage", None):
        wait = client.backoff(1, header)
        assert math.isfinite(wait) and 0 <= wait <= 30, header
    future = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 10 < client.backoff(1, future) <= 30
