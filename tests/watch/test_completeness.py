"""End markers: a file cut short (a copy paused between chunks) is told apart from a whole one,
on files the real slicers and tools wrote (the repository's samples)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from printharvest.watch.completeness import missing_end
from tests.support.paths import DEMO_CASES, SAMPLE_JOBS

WHOLE = [
    DEMO_CASES / "3DP-2026-001_kidney" / "kidney_tumour.gcode",  # PrusaSlicer
    DEMO_CASES / "3DP-2026-001_kidney" / "kidney_tumour.stl",  # binary STL
    SAMPLE_JOBS / "formats" / "cura" / "block_marlin.gcode",
    SAMPLE_JOBS / "formats" / "orcaslicer" / "block_orca.gcode",
]


@pytest.mark.parametrize("sample", WHOLE, ids=lambda p: p.name)
def test_whole_files_are_complete_and_cut_ones_are_not(sample: Path, tmp_path: Path) -> None:
    assert missing_end(sample) is None
    data = sample.read_bytes()
    cut = tmp_path / sample.name
    cut.write_bytes(data[: len(data) // 2])
    assert missing_end(cut) is not None


def test_a_zip_without_its_central_directory_is_incomplete(tmp_path: Path) -> None:
    whole = tmp_path / "job.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        archive.writestr("a.txt", "x" * 5000)
    assert missing_end(whole) is None
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[:-30])
    assert missing_end(cut) == "zip central directory missing (the end of the archive)"


def test_formats_without_an_end_marker_are_complete_when_settled(tmp_path: Path) -> None:
    plain = tmp_path / "notes.gcode"
    plain.write_bytes(b"G28\nG1 X10\n")  # no slicer header: nothing to wait for
    assert missing_end(plain) is None
    assert missing_end(tmp_path / "gone.gcode") is None  # unreadable: the harvest says why
