"""The file system refusing the mover, through the real watch service: a read-only inbox and
a full disk.

The tests run as root, for whom a read-only folder is still writable, and a real full disk
cannot be made on the test machine without privileges. So the errors are injected at the one
place the mover asks the OS to change anything (:func:`printharvest.watch.mover.os_call`),
exactly as the kernel reports them (``OSError(errno.EROFS)``, ``OSError(errno.ENOSPC)``);
everything else (the service, its workers, the store, the journal) is real.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from printharvest.watch import mover, service
from tests.support.cli import CliResult
from tests.support.watch import (
    ServiceThread,
    files_below,
    make_home,
    query,
    ticket,
    wait_for,
    write,
)

Run = Callable[..., CliResult]
REAL_OS_CALL = mover.os_call


def _states(home: Path) -> list[str]:
    return [str(r[0]) for r in query(home, "SELECT state FROM watch_files ORDER BY id")]


def test_a_read_only_inbox_is_said_once_and_not_copied_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        run_cli: Run) -> None:
    home = make_home(tmp_path / "home")
    inbox = (home / "inbox").resolve()
    copies: list[Path] = []

    def read_only_share(name: str, *args: Path) -> None:
        # The inbox is a read-only network share: renames out of it cross filesystems
        # (EXDEV, so the mover copies) and removing the original is refused (EROFS).
        if name == "replace" and inbox in args[0].parents:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        if name == "unlink" and inbox in args[0].parents:
            raise OSError(errno.EROFS, "Read-only file system")
        if name == "replace":
            copies.append(args[1])
        REAL_OS_CALL(name, *args)

    monkeypatch.setattr(mover, "os_call", read_only_share)
    monkeypatch.setattr(service, "RECOVER_SECONDS", 0.2)  # retries come fast in the test
    originals = [write(inbox / "job7" / f"part{n}.ticket", ticket(n)) for n in range(2)]
    with caplog.at_level(logging.ERROR, logger="printharvest"), ServiceThread(home):
        wait_for(lambda: _states(home) == ["kept", "kept"], 30, "both files left in place")
        time.sleep(1.5)  # several retry ticks and rescans
        status = run_cli("--home", str(home), "status")
    assert all(p.read_bytes() == ticket(n) for n, p in enumerate(originals))
    assert len(copies) == 2  # one copy each, taken back at once; never made again
    assert files_below(home / "archive") == []
    said = [r for r in caplog.records if "will not let originals go" in r.getMessage()]
    assert len(said) == 1, said
    assert status.code == 0
    assert f"inbox: {inbox / 'job7'} will not let originals go" in status.out
    assert "2 file(s) harvested and left in place" in status.out
    assert query(home, "SELECT COUNT(*) FROM records")[0][0] == 2


def test_originals_left_in_place_are_filed_once_the_inbox_lets_them_go(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        run_cli: Run) -> None:
    home = make_home(tmp_path / "home")
    inbox = (home / "inbox").resolve()
    share = {"read_only": True}
    copies: list[Path] = []

    def read_only_share(name: str, *args: Path) -> None:
        # A read-only share on another filesystem until the test makes it writable.
        if name == "replace" and inbox in args[0].parents:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        if name == "unlink" and inbox in args[0].parents and share["read_only"]:
            raise OSError(errno.EROFS, "Read-only file system")
        if name == "replace":
            copies.append(args[1])
        REAL_OS_CALL(name, *args)

    monkeypatch.setattr(mover, "os_call", read_only_share)
    monkeypatch.setattr(service, "RECOVER_SECONDS", 0.2)
    originals = [write(inbox / "job8" / f"part{n}.ticket", ticket(n)) for n in range(2)]
    loose = write(inbox / "loose.ticket", ticket(5))
    with caplog.at_level(logging.INFO, logger="printharvest"), ServiceThread(home):
        wait_for(lambda: _states(home) == ["kept"] * 3, 30, "all left in place")
        time.sleep(1.0)  # several retries, each probing the folders
        assert len(copies) == 3  # the probes copied nothing
        assert all(p.is_file() for p in [*originals, loose])
        assert list(inbox.rglob(".printharvest-probe-*")) == []
        share["read_only"] = False  # the share is writable again
        wait_for(lambda: _states(home) == ["archived"] * 3, 30, "all filed")
        status = run_cli("--home", str(home), "status")
    assert "will not let originals go" not in status.out
    assert files_below(inbox) == [] and not (inbox / "job8").exists()
    assert sorted(p.name for p in files_below(home / "archive")) == [
        "loose.ticket", "part0.ticket", "part1.ticket"]
    assert query(home, "SELECT COUNT(*) FROM records")[0][0] == 3
    # provenance follows the originals into the archive
    paths = [str(r[0]) for r in query(home, "SELECT path FROM records")]
    assert all(str(home / "archive") in p for p in paths), paths
    went = [r for r in caplog.records if "lets originals go again" in r.getMessage()]
    assert len(went) == 2, went  # once per folder (the job's, the inbox's own)


def test_a_full_disk_pauses_and_resumes_with_nothing_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        run_cli: Run) -> None:
    home = make_home(tmp_path / "home")
    inbox = (home / "inbox").resolve()
    full = {"now": True}

    def full_disk(name: str, *args: Path) -> None:
        # The archive's disk is full until the test frees it.
        if name == "replace" and full["now"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        REAL_OS_CALL(name, *args)

    monkeypatch.setattr(mover, "os_call", full_disk)
    monkeypatch.setattr(service, "RECOVER_SECONDS", 0.2)
    write(inbox / "first" / "a.ticket", ticket(1))
    write(inbox / "first" / "bad.hostile", b"HOSTILE RAISE")  # bound for the quarantine
    with caplog.at_level(logging.INFO, logger="printharvest"), ServiceThread(home):
        wait_for(lambda: sorted(_states(home)) == ["archiving", "quarantining"], 30,
                 "the first job planned")
        wait_for(lambda: (home / service.PAUSED_NAME).is_file(), 10, "the pause")
        write(inbox / "second.ticket", ticket(2))  # arrives while paused: waits, not taken
        time.sleep(1.0)
        assert sorted(_states(home)) == ["archiving", "quarantining"]
        status = run_cli("--home", str(home), "status")
        assert "paused: disk full at" in status.out
        full["now"] = False  # space returns
        wait_for(lambda: sorted(_states(home)) == ["archived", "archived", "quarantined"], 30,
                 "all filed")
        wait_for(lambda: not (home / service.PAUSED_NAME).exists(), 10, "the pause lifted")
    assert sorted(p.name for p in files_below(home / "archive")) == ["a.ticket",
                                                                      "second.ticket"]
    assert [p.name for p in files_below(home / "quarantine")] == ["bad.hostile"]
    assert list((home / "quarantine").rglob("bad.hostile.reason.txt"))
    assert files_below(inbox) == []
    paused = [r for r in caplog.records if "paused: disk full at" in r.getMessage()]
    assert len(paused) == 1, paused
    assert any("resumed: space is back" in r.getMessage() for r in caplog.records)
    assert query(home, "SELECT COUNT(*) FROM records")[0][0] == 2
