"""Pollers as an extension point: the contract check, recorded exchanges, the example package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from printharvest import PollerError as TopLevelPollerError
from printharvest.harvest.plugins import PluginHost
from printharvest.pollers import (
    PollBatch,
    PollerError,
    PrinterPoller,
    as_dict,
    base_url,
    polled_record,
    request_json,
    timeout_of,
)
from printharvest.testing import check_poller_contract, poll_recorded
from tests.support.cli import CliResult
from tests.support.paths import REPO

EXAMPLE = REPO / "examples" / "printharvest-lab-queue-poller"
EXCHANGE = EXAMPLE / "tests" / "exchange.json"
Run = Callable[..., CliResult]


class _Jobs(PrinterPoller):
    """A small poller written only from the public names of printharvest.pollers."""

    id = "test-jobs"
    label = "Test jobs"
    version = "1"

    def poll(self, since: str | None) -> PollBatch:
        import httpx

        with httpx.Client(base_url=base_url(self), timeout=timeout_of(self)) as client:
            data = as_dict(request_json(client, "GET", "/jobs", "jobs"), "jobs")
        batch = PollBatch(cursor=since)
        for job in data.get("jobs", []):
            batch.records.append(polled_record(self, str(job["id"]), job, {"outcome": "success"}))
            batch.cursor = str(job["id"])
        return batch


class _Careless(_Jobs):
    id = "test-careless"

    def poll(self, since: str | None) -> PollBatch:
        import httpx

        response = httpx.get(base_url(self) + "/jobs", timeout=timeout_of(self))
        batch = PollBatch(cursor=None)
        for job in response.json()["jobs"]:  # KeyError on a 500, ConnectError when off
            record = polled_record(self, str(job["id"]), job, {})
            batch.records.extend([record, record])
        return batch


def _exchange(tmp_path: Path, jobs: list[dict[str, Any]]) -> Path:
    path = tmp_path / "exchange.json"
    path.write_text(json.dumps({"settings": {"name": "bench"}, "exchanges": [
        {"request": {"method": "GET", "path": "/jobs"},
         "response": {"status": 200, "json": {"jobs": jobs}}}]}), encoding="utf-8")
    return path


def test_public_names_are_exported() -> None:
    assert TopLevelPollerError is PollerError


def test_the_poller_contract_passes_a_careful_poller(tmp_path: Path) -> None:
    exchange = _exchange(tmp_path, [{"id": 1}, {"id": 2}])
    report = check_poller_contract(_Jobs, exchange, expect_records=2)
    assert report.cursor == "2" and report.requests == ["GET /jobs"]
    assert [r.source.path for r in report.records] == ["poller://bench/1", "poller://bench/2"]


def test_the_poller_contract_catches_a_careless_poller(tmp_path: Path) -> None:
    exchange = _exchange(tmp_path, [{"id": 1}])
    with pytest.raises(AssertionError) as caught:
        check_poller_contract(_Careless, exchange)
    text = str(caught.value)
    assert "the same job identity twice" in text
    assert "HTTP 500: raised KeyError, expected PollerError" in text
    assert "unreachable: raised ConnectError, expected PollerError" in text


def test_a_recorded_exchange_answers_in_order_and_404s_the_rest(tmp_path: Path) -> None:
    exchange = _exchange(tmp_path, [])
    batch, requests = poll_recorded(_Jobs, exchange)
    assert batch.records == [] and requests == ["GET /jobs"]
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"exchanges": []}), encoding="utf-8")
    with pytest.raises(PollerError, match="HTTP 404"):
        poll_recorded(_Jobs, missing)


def _uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")


@pytest.fixture
def installed_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example poller package installed offline into a private folder on sys.path."""
    if _uv() is None:
        pytest.skip("uv is needed to install the example package")
    site = tmp_path / "site"
    build = tmp_path / "src"
    shutil.copytree(EXAMPLE, build)  # build from a copy: nothing is written into the repo
    installed = subprocess.run(
        [str(_uv()), "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
         "--no-cache", "--target", str(site), "--python", sys.executable, str(build)],
        capture_output=True, text=True, timeout=120, check=False)
    assert installed.returncode == 0, installed.stderr
    monkeypatch.syspath_prepend(str(site))
    # the sandbox process that imports entry points must find the package too
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), *sys.path]))
    yield site
    sys.modules.pop("printharvest_lab_queue", None)


@pytest.mark.slow
def test_the_example_poller_package_installs_offline_and_passes_the_contract(
        installed_example: Path, tmp_path: Path, home: Path, run_cli: Run) -> None:
    host = PluginHost.load(None)
    loaded = host.pollers["lab-queue"]
    assert loaded.route == "entry point"
    report = check_poller_contract(loaded.poller, EXCHANGE, expect_records=2)
    assert len(report.records) == 2
    # the package's own tests pass against the installed copy
    env = {**os.environ}
    outcome = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path / "src"), str(tmp_path / "src" / "tests")],
        cwd=tmp_path / "src", env=env, capture_output=True, text=True, timeout=120,
        check=False)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "2 passed" in outcome.stdout
    # through the CLI: the host loads it through the sandbox, and one recorded poll runs
    listed = run_cli("--home", str(home), "connectors", "list")
    assert "lab-queue" in listed.out.split("pollers:", 1)[1]
    tested = run_cli("--home", str(home), "connectors", "test", "--poller", "lab-queue",
                     "--exchange", str(EXCHANGE))
    assert tested.code == 0, tested.err
    assert "lab-queue returned 2 record(s), cursor '2026-03-02T16:20:00+00:00'" in tested.out
    assert "poller://queue-1/412" in tested.out and "DOE_JANE" not in tested.out


def test_connectors_test_poller_usage_and_unknown(home: Path, tmp_path: Path,
                                                  run_cli: Run) -> None:
    assert run_cli("--home", str(home), "connectors", "test").code == 2
    assert run_cli("--home", str(home), "connectors", "test", "--poller", "x").code == 2
    exchange = _exchange(tmp_path, [])
    result = run_cli("--home", str(home), "connectors", "test", "--poller", "nope",
                     "--exchange", str(exchange))
    assert result.code == 1 and "poller 'nope' is not installed" in result.err
