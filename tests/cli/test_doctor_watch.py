"""``doctor`` reports the watch service, the quarantine and a draft dictionary; a second
``watch`` refuses before saying "watching"; ``demo`` says where it left its home."""

from __future__ import annotations

import fcntl
import re
from pathlib import Path


def test_doctor_reports_watch_quarantine_and_draft(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (home / "quarantine" / "2026-12-02").mkdir(parents=True)
    (home / "quarantine" / "2026-12-02" / "broken.stl").write_bytes(b"solid x")
    (home / "quarantine" / "2026-12-02" / "broken.stl.reason.txt").write_text("truncated\n")
    doctor = run_cli("--home", str(home), "doctor")
    lines = doctor.out.splitlines()
    assert any(re.match(r"warn\s+dictionary: .*DRAFT", line) for line in lines), doctor.out
    assert any(re.match(r"warn\s+watch service: not running", line) for line in lines)
    assert any(re.match(r"warn\s+quarantine: 1 file\(s\) wait", line) for line in lines)
    assert doctor.code == 0  # warnings do not fail the check

    with (home / "watch.lock").open("a+") as held:  # a watch service holds this lock
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        doctor = run_cli("--home", str(home), "doctor")
        assert re.search(r"ok\s+watch service: running", doctor.out), doctor.out
        second = run_cli("--home", str(home), "watch", "--once")
        assert second.code == 2 and "already running" in second.err
        assert "watching" not in second.out


def test_demo_says_where_its_home_is(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "demo-home"
    result = run_cli("demo", "--keep", str(target))
    assert f"The demo home stays at {target}" in result.out
