"""The pollers: list in printers.yaml, secret references and the poll command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.config import Home
from printharvest.exceptions import ConfigError
from printharvest.pollers.base import resolve_secret
from printharvest.pollers.service import PollerService
from printharvest.rules.lab import Rules
from tests.pollers.test_pollers import STATUS, make_home
from tests.support.cli import CliResult
from tests.support.fake_printers import FakeStratasys


def write_pollers(home: Path, pollers: list[dict[str, object]]) -> Path:
    make_home(home, pollers)  # type: ignore[arg-type]
    return home / "rules"


@pytest.mark.parametrize(("entry", "message"), [
    ({"id": "formlabs_web", "name": "a", "url": "https://x",
      "secrets": {"client_secret": "hunter2"}}, "must be a reference"),
    ({"id": "octoprint", "name": "a", "url": "http://x", "options": {"api_key": "abc123"}},
     "looks like a secret"),
    ({"id": "octoprint", "name": "a"}, "needs url or host"),
    ({"id": "octoprint", "name": "../etc", "url": "http://x"}, "name"),
])
def test_bad_poller_entries_are_refused(home: Path, entry: dict[str, object],
                                        message: str) -> None:
    rules = write_pollers(home, [entry])
    with pytest.raises(ConfigError) as caught:
        Rules.load(rules)
    assert message in str(caught.value) and "printers.yaml" in str(caught.value)
    assert "hunter2" not in str(caught.value) or "must be" in str(caught.value)


def test_readme_example_is_valid(home: Path) -> None:
    rules = write_pollers(home, [
        {"id": "formlabs_web", "name": "formlabs-cloud", "options": {"client_id": "my-id"},
         "secrets": {"client_secret": "env:FORMLABS_CLIENT_SECRET"}},
        {"id": "stratasys_status", "name": "fortus-450", "host": "10.0.0.20"},
        {"id": "moonraker", "name": "voron-1", "url": "http://voron.local:7125",
         "model": "Voron 2.4"},
        {"id": "octoprint", "name": "prusa bench 2", "url": "http://octopi.local",
         "secrets": {"api_key": "keyring:printharvest/octoprint-bench-2"}}])
    assert [p.name for p in Rules.load(rules).printers.pollers] == [
        "formlabs-cloud", "fortus-450", "voron-1", "prusa bench 2"]


def test_secret_references_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PH_TEST_SECRET", "value")
    assert resolve_secret("env:PH_TEST_SECRET") == "value"
    monkeypatch.delenv("PH_TEST_SECRET")
    with pytest.raises(ConfigError, match="not set"):
        resolve_secret("env:PH_TEST_SECRET")
    with pytest.raises(ConfigError):
        resolve_secret("plain")


def test_duplicate_names_and_unknown_poller(home: Path) -> None:
    write_pollers(home, [{"id": "moonraker", "name": "a", "url": "http://127.0.0.1:9"},
                         {"id": "moonraker", "name": "a", "url": "http://127.0.0.1:9"}])
    app = App.open(home)
    try:
        with pytest.raises(ConfigError, match="used twice"):
            PollerService(app)
    finally:
        app.close()
    write_pollers(home, [{"id": "no_such", "name": "b", "url": "http://127.0.0.1:9"}])
    app = App.open(home)
    service = PollerService(app)
    try:
        [report] = service.run_due(0.0)
        assert report.error is not None and "unknown poller 'no_such'" in report.error
    finally:
        service.close()
        app.close()


def test_poll_command(run_cli: Callable[..., CliResult], home: Path) -> None:
    result = run_cli("--home", str(home), "poll", "--once")
    assert result.code == 0 and "no pollers configured" in result.out
    server = FakeStratasys(STATUS.format(current="completed", cstart=1763600000,
                                         pstart=1763500000))
    try:
        write_pollers(home, [{"id": "stratasys_status", "name": "fortus", "host": "127.0.0.1",
                              "port": server.port}])
        result = run_cli("--home", str(home), "poll", "--once")
        assert result.code == 0 and "fortus (stratasys_status): 2 new job(s)" in result.out
        result = run_cli("--home", str(home), "cases", "list", "--json")
        assert result.code == 0
        assert "PATIENT_SECRET" not in result.out
        server.faults.append("drop")
        result = run_cli("--home", str(home), "poll", "--once")
        assert result.code == 1 and "fortus (stratasys_status): failed" in result.err
    finally:
        server.close()


def test_shipped_printers_yaml_still_loads() -> None:
    rules = Rules.load(None)
    assert rules.printers.pollers == []
    assert rules.printers.library  # the rest of the file is untouched


def test_printers_added_while_the_service_runs_are_polled_after_a_reload(
        home: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_pollers(home, [])
    server = FakeStratasys(STATUS.format(current="completed", cstart=1763600000,
                                         pstart=1763500000))
    app = App.open(home)
    service = PollerService(app)
    try:
        assert service.run_due(0.0) == []
        fortus = {"id": "stratasys_status", "name": "fortus", "host": "127.0.0.1",
                  "port": server.port}
        write_pollers(home, [fortus])
        app.reload(Home.open(home))  # what watch does on an edit of the rules or SIGHUP
        [report] = service.run_due(0.0)
        assert report.printer == "fortus" and report.new_records == 2
        write_pollers(home, [fortus, fortus])  # a broken edit: the printer is still polled
        app.reload(Home.open(home))
        [report] = service.run_due(0.0, force=True)
        assert report.printer == "fortus" and report.error is None
        assert "pollers not reloaded" in caplog.text and "used twice" in caplog.text
        write_pollers(home, [])
        app.reload(Home.open(home))
        assert service.run_due(0.0, force=True) == []
    finally:
        service.close()
        app.close()
        server.close()
