"""The one owner of case state: one transition table, one writer, one audit format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.cases.model import CASE_STATUSES
from printharvest.cases.status import TRANSITIONS, StatusTransitionError, allowed, move
from printharvest.exceptions import ValidationError


@pytest.fixture
def app(home: Path) -> Iterator[App]:
    opened = App.open(home)
    yield opened
    opened.close()


def status_entries(app: App, case_id: int) -> list[tuple[str, str | None, str, str, str]]:
    return [(e["action"], e["field"], e["actor"], e["old"], e["new"])
            for e in app.cases.audit(case_id) if e["action"] == "status"]


def test_the_table_names_every_status_and_only_known_ones() -> None:
    assert set(TRANSITIONS) == set(CASE_STATUSES)
    assert all(set(after) <= set(CASE_STATUSES) for after in TRANSITIONS.values())
    # the registry's answers: to a case sent, and to this exact version sent before
    assert allowed("submitted", "accepted") and allowed("submitted", "rejected")
    assert allowed("ready", "accepted") and allowed("ready", "rejected")
    # and to an uploaded file (the registry's result file for an export)
    assert allowed("exported", "accepted") and allowed("exported", "rejected")
    # nobody but the registry's answer leads to accepted, and never from an incomplete case
    assert not allowed("needs_clinical", "accepted")


def test_a_forbidden_step_is_refused_and_writes_nothing(app: App) -> None:
    with app.store.transaction():
        case_id, _ = app.store.ensure_case("3DP-2026-900")
    before = app.cases.audit(case_id)
    with pytest.raises(StatusTransitionError, match="needs_clinical and cannot become accepted"), \
            app.store.transaction():
        move(app.store, case_id, "accepted", "registry")
    with pytest.raises(ValidationError, match="not one of"), app.store.transaction():
        move(app.store, case_id, "archived", "dm")
    assert app.store.case_row(case_id).status == "needs_clinical"
    assert app.cases.audit(case_id) == before


def test_every_writer_audits_the_same_way(app: App) -> None:
    with app.store.transaction():
        case_id, _ = app.store.ensure_case("3DP-2026-901")
        for status, actor in [("ready", "dm"), ("submitted", "submit"),
                              ("accepted", "registry"), ("ready", "dm")]:
            move(app.store, case_id, status, actor)
        move(app.store, case_id, "ready", "dm")  # staying put writes nothing
    assert status_entries(app, case_id) == [
        ("status", "status", "dm", "needs_clinical", "ready"),
        ("status", "status", "submit", "ready", "submitted"),
        ("status", "status", "registry", "submitted", "accepted"),
        ("status", "status", "dm", "accepted", "ready"),
    ]
