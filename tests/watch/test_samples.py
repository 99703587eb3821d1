"""The sample jobs through the real inbox service: cases as `ingest` makes them, DICOM
study hashes carried across the worker process, originals archived."""

from __future__ import annotations

import shutil
from pathlib import Path

from printharvest.app import App
from printharvest.store.imaging import series_keys_for_case
from printharvest.watch.service import WatchService
from tests.support.paths import DEMO_CASES
from tests.support.watch import files_below, make_home


def test_sample_jobs_through_watch_once(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    for job in sorted(DEMO_CASES.iterdir()):
        shutil.copytree(job, home / "inbox" / job.name)  # as they are: nothing to leave out
    dropped = len(files_below(home / "inbox"))
    app = App.open(home)
    try:
        stats = WatchService(app).run(once=True)
        assert stats.quarantined == 0
        cases = app.cases.list()
        # Two workers: either job may finish (and so become case 1) first.
        assert sorted(c.case_key for c in cases) == ["3DP-2026-001", "3DP-2026-002",
                                                      "3DP-2026-003"]
        for case in cases:
            assert {r.kind for r in case.records} - {"segmentation"} == {"imaging", "mesh",
                                                                         "print"}
            # The salted (study, series) hashes came back from the worker with the record.
            keys = series_keys_for_case(app.store, case.id)
            assert keys and all(len(k) == 64 for pairs in keys.values() for pair in pairs
                                for k in pair)
            assert case.fields["imaging.study_count"].provenance.rule == (
                "distinct salted study UIDs")
        assert len(files_below(home / "archive")) == dropped
        assert files_below(home / "inbox") == []
        # Provenance follows the originals into the archive.
        for case in app.cases.list():
            for record in case.records:
                # a DICOM set names its folder, which moved into the archive with its files
                assert Path(record.source.path).exists(), record.source.path
                assert "/archive/" in record.source.path
            technology = case.fields["prints.1.technology"].provenance.path
            assert technology is not None and Path(technology).is_file()
    finally:
        app.close()
