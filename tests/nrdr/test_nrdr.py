"""NRDR submission against the emulator over real HTTP on 127.0.0.1: sign-in with PKCE,
faults, exactly-once acceptance, expired sign-in, and nothing planted leaving the lab."""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from printharvest.app import App
from printharvest.cases.status import move
from printharvest.exceptions import ConfigError
from printharvest.nrdr.client import NrdrClient
from printharvest.nrdr.config import NrdrConfig, NrdrEnvironment, require_safe_url
from printharvest.nrdr.emulator import FAULT_KINDS, EmulatorServer, EmulatorState, Faults, start
from printharvest.registry.mapping import NrdrMapping
from printharvest.store.outbox import Outbox
from tests.support.cli import CliResult
from tests.support.registry import free_port, harvested_home, make_ready

RunCli = Callable[..., CliResult]

TOKEN = "Zqx7PlantedPhi"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """The local registry on a free port, faults off."""
    app = App.open(None)
    state = EmulatorState(dictionary=app.dictionary, mapping=NrdrMapping.load(None))
    server = start(state, 0)
    yield server
    server.shutdown()
    server.server_close()


def configure(home: Path, server: EmulatorServer, **extra: Any) -> None:
    """Point the home's nrdr settings at the emulator; tiny back-off, file token store."""
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings = {
        "environment": "emulator",
        "environments": {"emulator": {
            "authorize_url": f"{base}/oauth2/authorize", "token_url": f"{base}/oauth2/token",
            "api_base": f"{base}/api/3dp", "client_id": "printharvest-test",
            "redirect_uri": f"http://127.0.0.1:{free_port()}/callback",
            "partner_id": "P1", "facility_id": "F1"}},
        "token_store": "file", "max_attempts": 12, "retry_base_seconds": 0.001,
        "retry_max_seconds": 0.01, "timeout_seconds": 0.5, "status_polls": 4,
        "login_timeout_seconds": 20, **extra}
    home.mkdir(parents=True, exist_ok=True)
    (home / "printharvest.yaml").write_text(yaml.safe_dump({"nrdr": settings}))


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A 'browser' that follows the sign-in redirects (the emulator auto-approves)."""
    opened: list[str] = []

    def open_url(url: str) -> bool:
        opened.append(url)
        httpx.get(url, follow_redirects=True, timeout=10)
        return True

    monkeypatch.setattr("printharvest.cli.nrdr_cmd.webbrowser.open", open_url)
    return opened


def received_text(server: EmulatorServer) -> str:
    """Everything the emulator received: request lines, headers, bodies."""
    return "\n".join(f"{r.method} {r.path}\n{r.headers}\n{r.body.decode('utf-8', 'replace')}"
                     for r in server.state.received)


def test_login_and_submit_with_faults_accepts_each_case_once(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator, batch_size=3)  # three transactions of three cases each
    app = harvested_home(home, copies=3)
    ids = make_ready(app)
    assert len(ids) == 9
    login = run_cli("--home", str(home), "nrdr", "login")
    assert login.code == 0, login.err
    assert "code_challenge_method=S256" in browser[0]
    token_file = home / "nrdr" / "emulator.token.json"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    refresh = yaml.safe_load(token_file.read_text())["refresh_token"]

    emulator.state.set_faults(Faults(rate=0.5, latency_seconds=0.8, seed=1))
    outputs = []
    for _ in range(4):
        result = run_cli("--home", str(home), "submit")
        outputs.append(result.out + result.err)
        if all(app.cases.get(i).status == "accepted" for i in ids):
            break
    emulator.state.set_faults(Faults())
    injected = emulator.state.injected
    # seeded: every kind of fault hit this run (about 30% of the API requests)
    assert set(injected) == set(FAULT_KINDS) and sum(injected.values()) >= 10
    registry_ids = {app.cases.get(i).registry_id for i in ids}
    assert emulator.state.accepted_per_case() == dict.fromkeys(registry_ids, 1)
    # retries never made a second transaction: the case ids are the registry's guard
    assert len(emulator.state.transactions) == 3
    assert all(len(t["records"]) == 3 for t in emulator.state.transactions.values())
    rows = Outbox(app.store).all_rows()
    assert sorted(r.case_id for r in rows) == ids and {r.state for r in rows} == {"accepted"}
    assert any(r.attempts > 1 for r in rows)  # the faults really hit
    # a version already sent is never sent again
    before = len(emulator.state.received)
    again = run_cli("--home", str(home), "submit")
    assert again.code == 0 and len(emulator.state.received) == before
    listing = run_cli("--home", str(home), "submissions")
    assert listing.out.count("accepted") == 9
    for text in [*outputs, login.out, login.err, listing.out]:
        assert refresh not in text


def test_rejected_case_comes_back_with_the_registry_messages(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    # the registry knows better than our draft: its dictionary allows ages up to 80 only,
    # ours up to 90, so a case valid here is refused there
    strict = emulator.state.dictionary.model_copy(deep=True)
    next(e for e in strict.elements if e.id == "imaging.patient_age").max = 80
    emulator.state.dictionary = strict
    app.cases.set_values(ids[0], {"imaging.patient_age": 85}, "tester")
    assert app.cases.get(ids[0]).status == "ready"
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    result = run_cli("--home", str(home), "submit")
    assert f"case {ids[0]}: rejected" in result.out, result.out + result.err
    assert app.cases.get(ids[0]).status == "rejected"
    assert app.cases.get(ids[1]).status == "accepted"
    shown = run_cli("--home", str(home), "cases", "show", str(ids[0]))
    assert "registry says: imaging.patient_age: out of range" in shown.out


def test_expired_sign_in_says_log_in_again_and_loses_nothing(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    httpx.post(f"http://127.0.0.1:{emulator.server_address[1]}/_emulator/revoke")
    result = run_cli("--home", str(home), "submit")
    assert result.code == 1
    assert "log in again" in result.err and "Traceback" not in result.err
    pending = Outbox(app.store).open_rows()
    # the batch was recorded before it was sent, and kept
    assert [r.state for r in pending] == ["pending"] * len(ids)
    assert len({r.batch_key for r in pending}) == 1
    assert not emulator.state.transactions
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    assert run_cli("--home", str(home), "submit").code == 0
    assert all(app.cases.get(i).status == "accepted" for i in ids)
    assert len(emulator.state.transactions) == 1  # both cases in one transaction


def test_planted_tokens_never_leave(home: Path, emulator: EmulatorServer,
                                    browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator)
    app = harvested_home(home, token=TOKEN)
    ids = make_ready(app)
    stored = [r.source.path for i in ids for r in app.cases.get(i).records]
    assert all(TOKEN in p for p in stored)  # the plant took
    keys = [app.cases.get(i).case_key for i in ids]
    for fmt in ("psv", "xlsx", "json"):
        assert run_cli("--home", str(home), "export", "--format", fmt).code == 0
        with app.store.transaction():
            for i in ids:
                move(app.store, i, "ready", "tester")
    assert run_cli("--home", str(home), "sheet", *map(str, ids)).code == 0
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    assert run_cli("--home", str(home), "submit").code == 0
    assert all(app.cases.get(i).status == "accepted" for i in ids)
    left: list[str] = [received_text(emulator)]
    files = sorted(app.home.exports.iterdir())
    assert {p.suffix for p in files} == {".txt", ".xlsx", ".json", ".html"}
    for path in files:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                left.extend(archive.read(n).decode("utf-8", "replace")
                            for n in archive.namelist())
        else:
            left.append(path.read_text(encoding="utf-8"))
    everything = "\n".join(left).lower()
    assert TOKEN.lower() not in everything
    for key in keys:
        assert key.lower() not in everything
    assert str(home).lower() not in everything


def test_a_harvested_free_text_guess_does_not_leave(home: Path) -> None:
    from printharvest.cases.model import FieldValue, Provenance
    from printharvest.cli.export_cmd import exporter_for

    app = harvested_home(home)
    make_ready(app)
    harvested = {name: by_origin["harvest"] for name, by_origin in
                 app.store.field_values(1).items() if "harvest" in by_origin}
    # as if a rule had guessed a clinical free-text element from an object name
    harvested["model.software"] = FieldValue(
        value="upper pole", provenance=Provenance(origin="harvest", connector="x"))
    with app.store.transaction():
        app.store.replace_harvested_fields(1, harvested)
        app.store.set_user_field(1, "model.software", None, "tester")
    case = app.cases.get(1)
    assert case.value("model.software") == "upper pole"
    exporter = exporter_for(app)
    record = exporter.record(case, exporter.mapping())
    assert "software" not in record["digitalModel"]
    assert record["digitalModel"]["anatomicParts"][0]["comment"]  # typed text stays
    with app.store.transaction():
        app.store.set_user_field(1, "model.software", "upper pole", "tester")
    record = exporter.record(app.cases.get(1), exporter.mapping())
    assert record["digitalModel"]["software"] == "upper pole"


def test_only_https_beyond_loopback() -> None:
    assert require_safe_url("https://nrdr.example.org/api")
    assert require_safe_url("http://127.0.0.1:8780/api")
    for bad in ("http://nrdr.example.org/api", "ftp://x/y", "http://10.0.0.1/api"):
        with pytest.raises(ConfigError):
            require_safe_url(bad)
    env = NrdrEnvironment(authorize_url="http://registry.example.org/a",
                          token_url="https://x/t", api_base="https://x/api", client_id="c")
    with pytest.raises(ConfigError):
        NrdrConfig(environment="t", environments={"t": env}).current()


def test_backoff_doubles_and_honours_retry_after() -> None:
    settings = NrdrConfig(retry_base_seconds=1.0, retry_max_seconds=8.0)
    client = NrdrClient.__new__(NrdrClient)
    client.settings = settings
    assert 0.5 <= client.backoff(1, None) <= 1.0
    assert 2.0 <= client.backoff(3, None) <= 4.0
    assert client.backoff(10, None) <= 8.0
    assert client.backoff(1, "3") == 3.0 and client.backoff(1, "999") == 8.0


def test_registered_https_redirect_by_paste_and_state_check(tmp_path: Path,
                                                            emulator: EmulatorServer) -> None:
    from printharvest.exceptions import AuthError
    from printharvest.nrdr.auth import login
    from printharvest.nrdr.tokens import TokenStore

    base = f"http://127.0.0.1:{emulator.server_address[1]}"
    env = NrdrEnvironment(authorize_url=f"{base}/oauth2/authorize",
                          token_url=f"{base}/oauth2/token", api_base=f"{base}/api/3dp",
                          client_id="c1", redirect_uri="https://lab.example.org/nrdr/callback")
    tokens = TokenStore(tmp_path / "tokens", "file")
    landed: list[str] = []

    def browser(url: str) -> None:
        landed.append(httpx.get(url, follow_redirects=False).headers["Location"])

    with httpx.Client() as http:
        answer = login("test", env, http, tokens, browser, paste=lambda _: landed[-1])
        assert answer["token_type"] == "Bearer" and tokens.get("test")
        tampered = lambda _: landed[-1].replace("state=", "state=x")  # noqa: E731
        with pytest.raises(AuthError, match="state"):
            login("test", env, http, tokens, browser, paste=tampered)


def test_keyring_required_but_missing_is_a_config_error(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from printharvest.nrdr import tokens as tokens_module

    monkeypatch.setattr(tokens_module, "_keyring", lambda: None)
    with pytest.raises(ConfigError, match="keyring"):
        tokens_module.TokenStore(tmp_path, "keyring")
    store = tokens_module.TokenStore(tmp_path, "auto")
    store.put("prod", "secret-refresh")
    assert store.get("prod") == "secret-refresh"
    assert stat.S_IMODE(os.stat(tmp_path / "prod.token.json").st_mode) == 0o600
    store.delete("prod")
    assert store.get("prod") is None


@pytest.mark.slow
def test_emulator_command_serves_and_checks_its_options(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    assert run_cli("--home", str(home), "nrdr-emulator", "--faults", "500,meteor").code == 2
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "printharvest", "--home", str(home), "nrdr-emulator",
         "--port", str(port), "--fault-rate", "0.3", "--seed", "1"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"127.0.0.1:{port}" in first
        answer = httpx.get(f"http://127.0.0.1:{port}/_emulator/transactions", timeout=5)
        assert answer.status_code == 200 and answer.json() == []
        unauthorised = httpx.post(f"http://127.0.0.1:{port}/api/3dp/transactions", content=b"{}")
        assert unauthorised.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_doctor_reports_registry_reachability(home: Path, emulator: EmulatorServer,
                                              run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator)
    up = run_cli("--home", str(home), "doctor")
    assert up.code == 0 and "ok    registry: emulator at http://127.0.0.1:" in up.out
    (home / "printharvest.yaml").write_text(
        (home / "printharvest.yaml").read_text().replace(
            str(emulator.server_address[1]), str(free_port())), encoding="utf-8")
    down = run_cli("--home", str(home), "doctor")
    # Unreachable is a warning: exports still work offline.
    assert down.code == 0 and "warn  registry: emulator" in down.out and "not reachable" in down.out


def test_giving_up_records_every_attempt_and_a_later_submit_resumes(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator, max_attempts=3)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    emulator.state.set_faults(Faults(rate=1.0, kinds=("500",), latency_seconds=0.0, seed=1))
    first = run_cli("--home", str(home), "submit")
    assert first.code == 1 and "gave up after 3 attempt(s)" in first.out + first.err
    rows = Outbox(app.store).all_rows()
    assert [(r.state, r.attempts) for r in rows] == [("failed", 3)] * len(ids)
    emulator.state.set_faults(Faults())
    assert run_cli("--home", str(home), "submit").code == 0
    assert all(app.cases.get(i).status == "accepted" for i in ids)
    assert len(emulator.state.transactions) == 1  # the resumed batch, once


def test_an_accepted_version_edited_back_takes_its_answer_again(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli) -> None:  # type: ignore[no-untyped-def]
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    assert run_cli("--home", str(home), "submit").code == 0
    case_id = ids[0]
    assert app.cases.get(case_id).status == "accepted"
    before = app.cases.get(case_id).value("imaging.organ_system")
    app.cases.set_values(case_id, {"imaging.organ_system": "not_an_organ_system"}, "dm",
                         reason="checking the edit-back path")
    assert app.cases.get(case_id).status == "needs_clinical"
    app.cases.set_values(case_id, {"imaging.organ_system": before}, "dm")
    app.cases.mark_ready(case_id, "dm")
    again = run_cli("--home", str(home), "submit")
    assert again.code == 0 and "already sent (accepted)" in again.out + again.err
    assert app.cases.get(case_id).status == "accepted"
    assert len(emulator.state.transactions) == 1  # nothing sent twice
    # ready -> accepted is a step of the one transition table now, audited like every other
    # status change (action and field "status", old, new), whoever made it.
    changes = [(e["action"], e["field"], e["actor"], e["old"], e["new"])
               for e in app.cases.audit(case_id) if e["action"] == "status"]
    assert changes == [
        ("status", "status", "tester", "needs_clinical", "ready"),
        ("status", "status", "submit", "ready", "submitted"),
        ("status", "status", "registry", "submitted", "accepted"),
        ("status", "status", "dm", "accepted", "needs_clinical"),
        ("status", "status", "dm", "needs_clinical", "ready"),
        ("status", "status", "registry", "ready", "accepted"),
    ]


def test_partial_success_gives_each_record_its_own_result(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli: RunCli) -> None:
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    strict = emulator.state.dictionary.model_copy(deep=True)
    next(e for e in strict.elements if e.id == "imaging.patient_age").max = 80
    emulator.state.dictionary = strict
    app.cases.set_values(ids[0], {"imaging.patient_age": 85}, "tester")
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    assert run_cli("--home", str(home), "submit").code == 0
    (transaction,) = emulator.state.transactions.values()
    assert transaction["status"] == "PartiallySuccessful"
    rows = {r.case_id: r for r in Outbox(app.store).all_rows()}
    assert rows[ids[0]].state == "rejected" and rows[ids[0]].registry_state == "ValidationFail"
    assert rows[ids[1]].state == "accepted" and rows[ids[1]].registry_state == "Posted"
    assert rows[ids[0]].transaction_id == rows[ids[1]].transaction_id
    listing = run_cli("--home", str(home), "submissions")
    assert "ValidationFail" in listing.out and "Posted" in listing.out


@pytest.mark.parametrize(("word", "state", "status"), [
    ("UpdatedWithNewTransaction", "replaced", "submitted"),
    ("Failed", "rejected", "rejected"),
    ("ValidationFail", "rejected", "rejected")])
def test_each_final_transaction_state_reaches_the_outbox(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli: RunCli,
        word: str, state: str, status: str) -> None:
    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    forced = httpx.post(f"http://127.0.0.1:{emulator.server_address[1]}/_emulator/answer",
                        json={"states": [word]})
    assert forced.status_code == 200
    result = run_cli("--home", str(home), "submit")
    assert result.code == 0, result.err
    rows = Outbox(app.store).all_rows()
    assert {r.state for r in rows} == {state}
    assert all(app.cases.get(i).status == status for i in ids)
    if word == "UpdatedWithNewTransaction":
        assert "replaced by a newer transaction" in result.out


def test_waiting_states_are_asked_again_and_a_changed_case_replaces_the_older_record(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli: RunCli) -> None:
    configure(home, emulator, status_polls=1)
    emulator.state.progress = ("Loading", "Received", "ValidationSuccessful")
    app = harvested_home(home)
    ids = make_ready(app)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    first = run_cli("--home", str(home), "submit")
    assert "result not yet known" in first.out
    assert {r.state for r in Outbox(app.store).all_rows()} == {"sent"}
    for _ in range(3):
        run_cli("--home", str(home), "submit")
    assert all(app.cases.get(i).status == "accepted" for i in ids)
    # the registry holds case ids: a changed version of a held case replaces the older record
    registry_id = app.cases.get(ids[0]).registry_id
    older = emulator.state.held[registry_id][1]
    emulator.state.progress = ()
    app.cases.set_values(ids[0], {"procedure.time_saved_minutes": 25}, "dm",
                         reason="time saved corrected by the surgeon")
    app.cases.mark_ready(ids[0], "dm")
    assert run_cli("--home", str(home), "submit").code == 0
    assert app.cases.get(ids[0]).status == "accepted"
    assert emulator.state.transactions[older]["records"][0]["status"] in (
        "UpdatedWithNewTransaction", "Posted")
    replaced = [r for t in emulator.state.transactions.values() for r in t["records"]
                if r["status"] == "UpdatedWithNewTransaction"]
    assert [r["caseId"] for r in replaced] == [registry_id]
    assert emulator.state.accepted_per_case() == {
        app.cases.get(i).registry_id: 1 for i in ids}


def test_the_stable_case_id_is_the_duplicate_guard_without_an_idempotency_key(
        emulator: EmulatorServer) -> None:
    state = emulator.state
    record = {"caseId": "R1", "imaging": {"patientAge": 40}}
    header = {"registry": "3DP"}
    first = state.receive(header, [record], key="")
    assert state.receive(header, [dict(record)], key="") == first  # a lost answer, retried
    assert len(state.transactions) == 1
    changed = {**record, "imaging": {"patientAge": 41}}
    second = state.receive(header, [changed], key="")
    assert second != first


def test_a_client_secret_is_kept_like_the_refresh_token_and_sent_with_pkce(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli: RunCli,
        monkeypatch: pytest.MonkeyPatch) -> None:
    configure(home, emulator)
    emulator.state.client_secrets["printharvest-test"] = "s3cr3t-Value-42"
    refused = run_cli("--home", str(home), "nrdr", "login")
    assert refused.code != 0 and "Traceback" not in refused.err
    monkeypatch.setattr("click.prompt", lambda *a, **k: "s3cr3t-Value-42")
    kept = run_cli("--home", str(home), "nrdr", "secret")
    assert kept.code == 0 and "s3cr3t" not in kept.out
    secret_file = home / "nrdr" / "emulator.secret.json"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    login = run_cli("--home", str(home), "nrdr", "login")
    assert login.code == 0, login.err
    assert "s3cr3t" not in login.out + login.err
    forms = [r.body.decode() for r in emulator.state.received if r.path == "/oauth2/token"]
    assert all("client_secret=" in f for f in forms[-1:]) and "code_verifier=" in forms[-1]
    assert run_cli("--home", str(home), "nrdr", "secret", "--forget").code == 0
    assert not secret_file.exists()


def test_a_one_case_transaction_recorded_before_batches_is_resumed(
        home: Path, emulator: EmulatorServer, browser: list[str], run_cli: RunCli) -> None:
    import json

    from printharvest.cli.export_cmd import exporter_for

    configure(home, emulator)
    app = harvested_home(home)
    ids = make_ready(app)
    item = exporter_for(app).outgoing.prepare().items[0]
    old_body = json.dumps({"header": {"registry": "3DP"}, "case": item.record})
    with app.store.transaction():  # as the outbox recorded it before batches existed
        Outbox(app.store).add(item.case.id, f"case-{item.case.id}-{item.version[:40]}",
                              item.version, "emulator", old_body)
    assert run_cli("--home", str(home), "nrdr", "login").code == 0
    assert run_cli("--home", str(home), "submit").code == 0
    assert all(app.cases.get(i).status == "accepted" for i in ids)
    assert emulator.state.accepted_per_case() == {app.cases.get(i).registry_id: 1 for i in ids}
