"""Meshes as other exporters write them: OFF and OBJ variants, 3MF objects of several shells."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.models import HarvestRecord
from printharvest.testing import harvest_sample
from tests.support.paths import SAMPLE_JOBS

MESH = SAMPLE_JOBS / "formats" / "mesh"


def only_record(path: Path) -> HarvestRecord:
    """The one record of a file, with no errors."""
    outcome = harvest_sample(path, path.parent)
    assert [e.reason for e in outcome.errors] == []
    [record] = outcome.records
    return record


def test_off_with_comments_and_glued_counts() -> None:
    record = only_record(MESH / "exporter_glued.off")
    assert record.source.connector == "off"
    assert (record.part_count, record.volume_ml, record.bbox_mm) == (1, 1.0, [20.0, 10.0, 5.0])


@pytest.mark.parametrize("header", [b"OFF\n8 6 12\n", b"OFF 8 6 12\n", b"OFF8 6 12\n",
                                    b"\n  # c\n#\nOFF\n# counts next\n8 6 12\n"])
def test_off_header_layouts(tmp_path: Path, header: bytes) -> None:
    body = (MESH / "exporter_glued.off").read_bytes().split(b"OFF8 6 12\n", 1)[1]
    path = tmp_path / "box.off"
    path.write_bytes(header + body)
    assert only_record(path).volume_ml == 1.0


def test_obj_with_groups_smoothing_vp_materials_and_continuations() -> None:
    record = only_record(MESH / "exporter_groups.obj")
    assert (record.part_count, record.volume_ml, record.bbox_mm) == (1, 1.0, [20.0, 10.0, 5.0])
    assert record.watertight is True


def test_3mf_object_of_several_shells_counts_each_shell() -> None:
    # openscad writes two separate cubes as one object: two bodies, as an STL of them.
    record = only_record(MESH / "openscad_two_shells.3mf")
    assert record.part_count == 2
    assert sorted(p.volume_ml or 0 for p in record.parts) == [0.125, 1.0]
