"""Small pieces of the pollers: Retry-After, value converters, the HTTP fault translation."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from printharvest.connectors.units import as_float, iso_time, ms_to_s, seconds
from printharvest.exceptions import PollerError
from printharvest.pollers.base import request_json, retry_after


def test_retry_after_forms() -> None:
    assert retry_after("120") == 120.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    wait = retry_after(later)
    assert wait is not None and 55 <= wait <= 61


def test_values_refuse_nonsense() -> None:
    assert as_float("nan") is None and as_float(-1) is None and as_float(True) is None
    assert ms_to_s(1500) == 2 and seconds(10**12) is None
    assert iso_time("2026-11-18T09:12:44Z") == "2026-11-18T09:12:44+00:00"
    assert iso_time(0) is None and iso_time("yesterday") is None


@pytest.mark.parametrize(("status", "body", "headers", "message", "wait"), [
    (429, b"{}", {"Retry-After": "7"}, "rate limited", 7.0),
    (503, b"{}", {}, "HTTP 503", None),
    (401, b"{}", {}, "check credentials", None),
    (200, b"<html>", {}, "not valid JSON", None),
])
def test_http_faults_become_one_line_errors(status: int, body: bytes, headers: dict[str, str],
                                            message: str, wait: float | None) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body,
                                                                   headers=headers))
    with httpx.Client(transport=transport) as client, pytest.raises(PollerError) as caught:
        request_json(client, "GET", "http://printer/x", "bench")
    assert message in str(caught.value) and caught.value.retry_after == wait


def test_connection_errors_become_poller_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client, \
            pytest.raises(PollerError, match="cannot connect"):
        request_json(client, "GET", "http://printer/x", "bench")
