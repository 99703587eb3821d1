"""``submit`` says what it does as it happens; ``nrdr login`` without a browser gives up."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.nrdr.emulator import EmulatorServer, Faults
from tests.nrdr.test_nrdr import browser, configure, emulator
from tests.support.registry import harvested_home, make_ready

__all__ = ["browser", "emulator"]  # fixtures used by name below


def test_submit_shows_progress_and_each_retry(home: Path, emulator: EmulatorServer,
                                              browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    emulator.state.set_faults(Faults(rate=0.5, kinds=("500", "429"), seed=3))
    result = run_cli("--home", str(home), "submit")
    emulator.state.set_faults(Faults())
    assert f"case(s) {ids[0]}" in result.err and "sending ..." in result.err
    assert "waiting for the registry's answer" in result.err
    assert "retrying in" in result.err and "(attempt 2 of 12)" in result.err
    assert "the registry answered 500" in result.err or "answered 429" in result.err


def test_login_without_a_browser_prints_the_address_and_gives_up(
        home: Path, emulator: EmulatorServer, run_cli,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    configure(home, emulator, login_timeout_seconds=1)
    monkeypatch.setattr("printharvest.cli.nrdr_cmd.webbrowser.open", lambda url: False)
    result = run_cli("--home", str(home), "nrdr", "login")
    assert result.code != 0
    assert "/oauth2/authorize?" in result.out
    assert "no browser was opened" in result.out and "waiting up to 1 s" in result.out
    assert "no answer from the sign-in page in time" in result.err
