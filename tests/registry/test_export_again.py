"""An exported case goes out again only when asked to with ``--again``."""

from __future__ import annotations

from pathlib import Path

from tests.support.registry import harvested_home, make_ready


def test_export_again_needs_the_flag(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    app = harvested_home(home)
    ids = make_ready(app)
    h = ("--home", str(home))
    assert run_cli(*h, "export", "--format", "psv").code == 0
    assert all(app.cases.get(i).status == "exported" for i in ids)

    # All ready cases: none left, nothing written, nothing sent twice by accident.
    again = run_cli(*h, "export", "--format", "xlsx")
    assert again.code == 0 and "nothing to export" in again.out
    named = run_cli(*h, "export", "--format", "xlsx", str(ids[0]))
    assert named.code == 1 and "exported already" in named.err and "--again" in named.err
    assert not list(app.home.exports.glob("*.xlsx"))

    # Asked for: every exported case goes out once more, in another format.
    done = run_cli(*h, "export", "--format", "xlsx", "--again")
    assert done.code == 0, done.err
    assert f"{len(ids)} case(s) in export" in done.out
    assert len(list(app.home.exports.glob("*.xlsx"))) == 1
    log = app.cases.audit(ids[0])
    assert sum(1 for e in log if e["action"] == "export") == 2
