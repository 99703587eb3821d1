"""The watch service's parts: moves, names, journal recovery, keep mode, status, observers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.exceptions import ArchiveError
from printharvest.store.journal import Journal
from printharvest.watch.mover import _copy_then_remove, move_file, resume_move
from printharvest.watch.scan import free_name, snapshot, top_entries
from printharvest.watch.service import WatchService
from tests.support.cli import CliResult
from tests.support.watch import (
    ServiceThread,
    files_below,
    make_home,
    open_rows,
    query,
    ticket,
    wait_for,
    write,
)


def _once(home: Path) -> int:
    app = App.open(home)
    try:
        return WatchService(app).run(once=True).jobs
    finally:
        app.close()


def test_free_name_adds_a_suffix_and_respects_reason_files(tmp_path: Path) -> None:
    target = tmp_path / "liver.gcode.3mf"
    assert free_name(target) == target
    target.write_text("x")
    assert free_name(target).name == "liver-1.gcode.3mf"
    (tmp_path / "liver-1.gcode.3mf.reason.txt").write_text("why")
    assert free_name(target).name == "liver-2.gcode.3mf"


def test_moves_never_overwrite_and_resume_after_a_crash(tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "a.ticket", b"one")
    dest = write(tmp_path / "out" / "a.ticket", b"other")
    with pytest.raises(ArchiveError):
        move_file(src, dest)
    assert dest.read_bytes() == b"other" and src.exists()
    # the cross-filesystem path: copy, flush, rename, then remove the original
    other = tmp_path / "out" / "b.ticket"
    _copy_then_remove(src, other)
    assert other.read_bytes() == b"one" and not src.exists()
    # a crash after the copy landed but before the original was removed
    src.write_bytes(b"one")
    assert resume_move(src, other) and not src.exists()
    # a crash after the move, before the journal heard of it
    assert resume_move(src, other)
    # neither place has it: someone took it away
    assert not resume_move(tmp_path / "in" / "gone", tmp_path / "out" / "gone")


def test_scan_skips_files_still_being_written(tmp_path: Path) -> None:
    write(tmp_path / ".rsync.tmp.Xy", b"x")
    write(tmp_path / "copy.stl.part", b"x")
    write(tmp_path / "JOB" / "a.stl", b"abc")
    write(tmp_path / "JOB" / "~$notes.docx", b"x")
    write(tmp_path / "loose.stl", b"ab")
    assert top_entries(tmp_path) == ["JOB", "loose.stl"]
    snap = snapshot(tmp_path, "JOB")
    assert list(snap) == ["JOB/a.stl"] and snap["JOB/a.stl"][0] == 3
    assert snapshot(tmp_path, "missing") == {}


def test_restart_finishes_every_half_done_step(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    inbox = home / "inbox"
    app = App.open(home)
    journal = Journal(app.store)
    key = str(inbox.resolve())
    job = journal.new_job(key, "stuck")
    rows = {}
    for name in ("archiving", "quarantining", "harvested", "moved", "harvesting", "clash"):
        path = write(inbox / f"{name}.ticket", name.encode())
        st = path.stat()
        rows[name] = journal.track(job, key, path.name, st.st_size, st.st_mtime_ns)
    journal.start_harvest([r.id for r in rows.values()])
    journal.decide({rows["archiving"].id: ("harvested", None),
                    rows["quarantining"].id: ("failed", "not a ticket"),
                    rows["harvested"].id: ("duplicate", None),
                    rows["moved"].id: ("harvested", None),
                    rows["clash"].id: ("harvested", None)})
    planned = home / "archive" / "planned" / "archiving.ticket"
    journal.plan_move(rows["archiving"].id, "archiving", str(planned))
    journal.plan_move(rows["quarantining"].id, "quarantining",
                      str(home / "quarantine" / "quarantining.ticket"))
    moved_to = home / "archive" / "planned" / "moved.ticket"
    journal.plan_move(rows["moved"].id, "archiving", str(moved_to))
    move_file(inbox / "moved.ticket", moved_to)  # the crash came after this move
    # someone put other content at a planned destination while the service was down
    taken = write(home / "archive" / "planned" / "clash.ticket", b"someone else's")
    journal.plan_move(rows["clash"].id, "archiving", str(taken))
    app.close()

    assert _once(home) == 1  # only the interrupted harvest is a job again
    month = datetime.now().strftime("%Y/%m")
    assert planned.read_bytes() == b"archiving"
    assert moved_to.read_bytes() == b"moved"
    assert taken.read_bytes() == b"someone else's"
    assert (home / "archive" / month / "clash.ticket").read_bytes() == b"clash"
    reason = home / "quarantine" / "quarantining.ticket.reason.txt"
    assert reason.read_text().strip() == "not a ticket"
    assert (home / "archive" / month / "harvested.ticket").read_bytes() == b"harvested"
    assert (home / "quarantine" / "harvesting.ticket").exists()  # not a ticket: quarantined
    assert files_below(inbox) == []
    assert open_rows(home) == 0


def test_keep_mode_leaves_originals_and_takes_only_new_content(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", archive_mode="keep")
    inbox = home / "inbox"
    write(inbox / "a.ticket", ticket(1))
    write(inbox / "JOB-1" / "b.ticket", ticket(2))
    assert _once(home) == 2
    assert _once(home) == 0
    assert len(files_below(inbox)) == 2
    assert files_below(home / "archive") == []
    time.sleep(0.01)
    write(inbox / "a.ticket", ticket(3))  # new content under the same name
    assert _once(home) == 1
    # the file's record is updated (no second record beside it), with the new content
    assert query(home, "SELECT COUNT(*) FROM records")[0][0] == 2
    bodies = [json.loads(str(r[0])) for r in query(home, "SELECT body FROM records")]
    assert sorted(b["print_time_s"] for b in bodies) == [2, 3]
    states = sorted(r[0] for r in query(home, "SELECT state FROM watch_files"))
    assert states == ["kept", "kept", "kept"]


def test_name_clashes_in_the_archive_get_a_suffix(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    month = datetime.now().strftime("%Y/%m")
    earlier = write(home / "archive" / month / "a.ticket", b"earlier, keep me")
    write(home / "inbox" / "a.ticket", ticket(1))
    assert _once(home) == 1
    assert earlier.read_bytes() == b"earlier, keep me"
    assert (home / "archive" / month / "a-1.ticket").read_bytes() == ticket(1)


def test_watch_once_and_status_commands(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    home = make_home(tmp_path / "home")
    write(home / "inbox" / "good.ticket", ticket(5))
    write(home / "inbox" / "junk.bin", b"\x00\x01 DOE^JANE nothing anyone reads")
    write(home / "inbox" / "cut.ticket", b'{"test-ticket": 1, "name": "DOE^JANE"')
    result = run_cli("--home", str(home), "watch", "--once")
    assert result.code == 1  # a file went to quarantine
    assert "junk.bin" in result.out and "no connector recognises this file" in result.out
    status = run_cli("--home", str(home), "status")
    assert status.code == 0
    assert "queue: 0 file(s) in progress" in status.out
    assert "junk.bin" in status.out and "good.ticket" in status.out
    data = json.loads(run_cli("--home", str(home), "status", "--json").out)
    assert data["running"] is False
    assert {e["reason"] for e in data["errors"]} == {"no connector recognises this file",
                                                     "ticket is not complete JSON"}
    assert {j["name"] for j in data["jobs"]} == {"good.ticket", "junk.bin", "cut.ticket"}
    log = (home / "logs" / "printharvest.log").read_text()
    assert "junk.bin: quarantined" in log
    assert "cut.ticket: quarantined: ticket is not complete JSON" in log
    # file content never reaches the log, the reasons or the status
    reasons = "".join(p.read_text() for p in (home / "quarantine").glob("*.reason.txt"))
    for text in (log, reasons, status.out, json.dumps(data)):
        assert "DOE^JANE" not in text
    write(home / "inbox" / "other.ticket", ticket(6))
    assert run_cli("--home", str(home), "watch", "--once").code == 0


def test_polling_observer_and_periodic_tasks(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", watch={"observer": "polling", "poll_interval": 0.2})
    calls: list[float] = []

    def flaky(now: float) -> None:
        calls.append(now)
        raise RuntimeError("a poller that fails must not stop the service")

    with ServiceThread(home) as running:
        running.service.add_periodic("flaky", 0.1, flaky)
        for n in range(5):
            write(home / "inbox" / f"JOB-{n}" / "a.ticket", ticket(n))
        wait_for(lambda: not files_below(home / "inbox") and open_rows(home) == 0, 30,
                 "polling observer to take the jobs")
        wait_for(lambda: len(calls) >= 3, 10, "the periodic task")
    assert len(files_below(home / "archive")) == 5


def test_a_closed_file_is_taken_only_after_the_settle_time(tmp_path: Path) -> None:
    # Closed is not complete: a network copy closes and reopens a file between chunks.
    home = make_home(tmp_path / "home", settle_seconds=1.5)
    with ServiceThread(home):
        time.sleep(0.3)
        write(home / "inbox" / "quick.ticket", ticket(9))
        time.sleep(0.6)
        assert (home / "inbox" / "quick.ticket").exists()
        wait_for(lambda: not files_below(home / "inbox") and open_rows(home) == 0, 30,
                 "the settled file to be taken")
    assert len(files_below(home / "archive")) == 1


def test_one_service_per_home(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    home = make_home(tmp_path / "home")
    with ServiceThread(home) as running:
        wait_for(lambda: (home / "watch.lock").exists(), 10, "the lock")
        wait_for(lambda: running.service.journal.service() is not None, 10, "the heartbeat")
        result = run_cli("--home", str(home), "watch", "--once")
        assert result.code == 2
        assert "already running" in result.err
        assert "service: running" in run_cli("--home", str(home), "status").out


def test_a_quarantined_file_put_back_is_tried_again(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    broken = b'{"test-ticket": 5, "pad": '
    write(home / "inbox" / "late.ticket", broken)
    assert _once(home) == 1
    quarantined = home / "quarantine" / "late.ticket"
    assert quarantined.read_bytes() == broken
    # the technician fixes it and puts it back; the fixed file is a new content
    write(home / "inbox" / "late.ticket", ticket(5))
    # and the broken one is put back too, unchanged: it is tried again, not dismissed
    quarantined.rename(home / "inbox" / "again.ticket")
    assert _once(home) == 2
    assert (home / "quarantine" / "again.ticket").read_bytes() == broken
    rows = query(home, "SELECT rel_path, outcome, state FROM watch_files")
    assert sorted(rows) == [("again.ticket", "failed", "quarantined"),
                            ("late.ticket", "failed", "quarantined"),
                            ("late.ticket", "harvested", "archived")]


def test_the_log_file_rotates(tmp_path: Path) -> None:
    import logging

    from printharvest.watch.display import setup_logging

    handler = setup_logging(tmp_path / "logs", max_bytes=10_000, backups=2)
    try:
        logger = logging.getLogger("printharvest.watch")
        for n in range(400):
            logger.info("job JOB-%d done: 1 file(s)", n)
    finally:
        logging.getLogger("printharvest").removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == ["printharvest.log", "printharvest.log.1", "printharvest.log.2"]
    assert all(p.stat().st_size <= 10_000 for p in (tmp_path / "logs").iterdir())


def test_the_commented_config_states_the_watch_defaults(tmp_path: Path) -> None:
    import yaml

    from printharvest.config import DEFAULT_CONFIG_TEXT, Config, Home
    from printharvest.exceptions import ConfigError

    written = Config.model_validate(yaml.safe_load(DEFAULT_CONFIG_TEXT))
    assert written.watch == Config().watch
    (tmp_path / "printharvest.yaml").write_text("watch:\n  observer: inotify\n")
    with pytest.raises(ConfigError, match="observer"):
        Home.open(tmp_path)


def test_an_extra_inbox_on_another_filesystem_is_copied_then_removed(tmp_path: Path) -> None:
    import os
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)) \
            or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second filesystem (/dev/shm)")
    share = Path(tempfile.mkdtemp(prefix="printharvest-share-", dir=shm))
    try:
        home = make_home(tmp_path / "home", extra_inboxes=[str(share)])
        write(share / "JOB-share" / "a.ticket", ticket(31))
        write(share / "b.ticket", ticket(32))
        write(share / "b-copy.ticket", ticket(32))
        assert _once(home) == 3
        assert files_below(share) == []
        month = datetime.now().strftime("%Y/%m")
        archive = home / "archive" / month
        assert (archive / "JOB-share" / "a.ticket").read_bytes() == ticket(31)
        assert (archive / "b.ticket").read_bytes() == ticket(32)
        assert (archive / "b-copy.ticket").read_bytes() == ticket(32)
        assert not list(archive.rglob("*.printharvest-partial"))
        assert query(home, "SELECT COUNT(*) FROM records")[0][0] == 2
    finally:
        shutil.rmtree(share, ignore_errors=True)
