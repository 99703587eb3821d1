"""Memory stays bounded per file, not per job: a 2,000-slice series (an ordinary CT) is read
with a short head kept per slice, and loose files are harvested one at a time."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.testing.dicom_synth import uid, write_slice

SLICES = 2000
SIDE = 128  # 32 KiB of pixels per slice: ~66 MB on disk for the whole series


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ct") / "CT-job"
    study, series_uid = uid("memory", "study"), uid("memory", "series")
    for number in range(1, SLICES + 1):
        write_slice(root / f"slice{number:04d}.dcm", modality="CT", study_uid=study,
                    series_uid=series_uid, number=number, size=SIDE)
    return root


def test_a_2000_slice_series_is_read_with_memory_bounded_per_file(series: Path,
                                                                  home: Path) -> None:
    app = App.open(home)
    app.read_only = True
    try:
        harvester = app.harvester
        tracemalloc.start()
        try:
            outcome = harvester.harvest_paths([series], grouping="root")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        app.close()
    assert not outcome.errors
    imaging = [r for r in outcome.records if r.kind == "imaging"]
    assert len(imaging) == 1 and imaging[0].imaging is not None
    assert imaging[0].imaging.series_count == 1 and imaging[0].imaging.modalities == ["CT"]
    # Whole-file windows for every slice would hold 2,000 x 2 x 32 KiB = 128 MiB at once.
    assert peak < 48 << 20, f"peak {peak >> 20} MiB"
