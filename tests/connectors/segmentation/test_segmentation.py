"""Segmentation connectors on files the real tools write: slicerio/pynrrd, highdicom, pydicom."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from printharvest.connectors.dicom.connector import DicomConnector
from printharvest.connectors.dicom.segobjects import DicomSegConnector, RtStructConnector
from printharvest.connectors.probe import probe_file
from printharvest.connectors.segmentation.mrb import SlicerSceneConnector
from printharvest.connectors.segmentation.slicer import SlicerSegmentationConnector
from printharvest.exceptions import CorruptFileError
from printharvest.harvest.harvester import Harvester
from printharvest.harvest.plugins import PluginHost
from printharvest.rules.lab import Rules
from printharvest.testing.seg_synth import (
    write_dicom_seg,
    write_mrb,
    write_rtstruct,
    write_seg_nrrd,
)

KIDNEY = ("SCT", "64033007", "Kidney")
RIGHT = ("SCT", "24028007", "Right")
MASS = ("SCT", "4147007", "Mass")
SEGMENTS = [("Right kidney", {"type": KIDNEY, "type_modifier": RIGHT}),
            ("Tumor", {"type": MASS, "region": KIDNEY, "region_modifier": RIGHT}),
            ("Vessel", {})]


def test_seg_nrrd_segments_and_codes(tmp_path: Path) -> None:
    path = write_seg_nrrd(tmp_path / "k.seg.nrrd", SEGMENTS)
    probe = probe_file(path)
    connector = SlicerSegmentationConnector()
    assert connector.detect(probe) == 0.95
    [record] = connector.harvest(probe)
    assert record.kind == "segmentation" and record.part_count == 3
    assert record.software is not None and record.software.name == "3D Slicer"
    assert [s.name for s in record.segments or []] == ["Right kidney", "Tumor", "Vessel"]
    assert (record.segments or [])[1].terminology == {
        "category": "SCT:123037004", "type": "SCT:4147007", "region": "SCT:64033007",
        "region_modifier": "SCT:24028007"}
    assert (record.segments or [])[2].terminology == {"category": "SCT:123037004"}


def test_seg_nrrd_voxels_are_never_read(tmp_path: Path) -> None:
    """The header alone is enough: cutting the (gzip) voxels off changes nothing."""
    path = write_seg_nrrd(tmp_path / "k.seg.nrrd", SEGMENTS)
    data = path.read_bytes()
    cut = tmp_path / "cut.seg.nrrd"
    cut.write_bytes(data[: data.index(b"\n\n") + 2] + b"\x1f\x8b garbage")
    [record] = SlicerSegmentationConnector().harvest(probe_file(cut))
    assert len(record.segments or []) == 3


def test_plain_nrrd_yields_nothing_and_garbage_is_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "volume.nrrd"
    plain.write_bytes(b"NRRD0004\ntype: uint8\ndimension: 1\nsizes: 1\nencoding: raw\n\n\x00")
    connector = SlicerSegmentationConnector()
    assert 0 < connector.detect(probe_file(plain)) < 0.95
    assert connector.harvest(probe_file(plain)) == []
    broken = tmp_path / "broken.seg.nrrd"
    broken.write_bytes(b"NRRD0004\nSegment0_Name:=x\ndimension: banana\n\n")
    with pytest.raises(CorruptFileError) as caught:
        connector.harvest(probe_file(broken))
    assert "\n" not in str(caught.value)


def test_mrb_version_and_segments(tmp_path: Path) -> None:
    inner = write_seg_nrrd(tmp_path / "inner" / "Segmentation.seg.nrrd", SEGMENTS[:2])
    bundle = write_mrb(tmp_path / "scene.mrb", inner, version="5.6.2", revision="32448")
    probe = probe_file(bundle)
    connector = SlicerSceneConnector()
    assert connector.detect(probe) == 0.95
    [record] = connector.harvest(probe)
    assert record.software is not None and record.software.version == "5.6.2"
    assert [s.name for s in record.segments or []] == ["Right kidney", "Tumor"]
    # the scene format's own default version is not an application version
    old = write_mrb(tmp_path / "old.mrb", inner, version="4.4.0", revision="")
    [record] = connector.harvest(probe_file(old))
    assert record.software is not None and record.software.version is None


def test_mrb_without_scene_or_with_garbage_member(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mrb"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("x.txt", "hello")
    connector = SlicerSceneConnector()
    with pytest.raises(CorruptFileError, match=r"no \.mrml"):
        connector.harvest(probe_file(empty))
    bad = tmp_path / "bad.mrb"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("s/s.mrml", '<MRML version="Slicer5.6.2 1"></MRML>')
        archive.writestr("s/Data/PATIENTNAME.seg.nrrd", b"\x00" * 5000)
    with pytest.raises(CorruptFileError) as caught:
        connector.harvest(probe_file(bad))
    assert "PATIENTNAME" not in str(caught.value)


def test_dicom_seg_is_routed_away_from_the_imaging_connector(tmp_path: Path) -> None:
    path = write_dicom_seg(tmp_path / "seg.dcm", tmp_path / "ct", SEGMENTS[:2],
                           manufacturer="QIICR", software="dcmqi 1.3.0")
    probe = probe_file(path)
    assert DicomSegConnector().detect(probe) == 1.0
    assert DicomConnector().detect(probe) < 1.0
    assert RtStructConnector().detect(probe) == 0.0
    [record] = DicomSegConnector().harvest(probe)
    assert record.software is not None
    assert (record.software.name, record.software.version) == ("QIICR", "1.3.0")
    tumour = (record.segments or [])[1]
    assert tumour.name == "Tumor"
    assert tumour.terminology["region_modifier"] == "SCT:24028007"
    assert (record.segments or [])[0].terminology["type_modifier"] == "SCT:24028007"


def test_rtstruct_rois_volumes_and_codes(tmp_path: Path) -> None:
    path = write_rtstruct(tmp_path / "rt.dcm", [
        ("Kidney R", {"type": KIDNEY, "type_modifier": RIGHT}, 150.25), ("Body", {}, None)])
    probe = probe_file(path)
    assert RtStructConnector().detect(probe) == 1.0
    [record] = RtStructConnector().harvest(probe)
    first, second = record.segments or []
    assert (first.name, first.volume_ml) == ("Kidney R", 150.25)
    assert first.terminology["type"] == "SCT:64033007"
    assert second.terminology == {"category": "SCT:123037004"}
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(path.read_bytes()[:400])
    with pytest.raises(CorruptFileError):
        RtStructConnector().harvest(probe_file(cut))


def test_a_folder_of_images_and_a_seg_gives_both_records(tmp_path: Path) -> None:
    write_dicom_seg(tmp_path / "job" / "seg.dcm", tmp_path / "job" / "ct", SEGMENTS[:1])
    harvester = Harvester(PluginHost.load(None, entry_points=False), Rules.load(None))
    outcome = harvester.harvest_paths([tmp_path / "job"], grouping="root")
    assert outcome.errors == []
    kinds = sorted(r.kind for r in outcome.records)
    assert kinds == ["imaging", "segmentation"]
    imaging = next(r for r in outcome.records if r.kind == "imaging")
    assert imaging.imaging is not None and imaging.imaging.series_count == 1


def test_slicer_color_table_names_the_labels(tmp_path: Path) -> None:
    from printharvest.connectors.segmentation.colortable import SlicerColorTableConnector

    table = tmp_path / "label_ColorTable.ctbl"
    table.write_text("# Color table file x.ctbl\n# 3 values\n0 Background 0 0 0 0\n"
                     "2 Tumor 1 2 3 255\n1 Right_kidney 4 5 6 255\n")
    connector = SlicerColorTableConnector()
    assert connector.detect(probe_file(table)) == 0.9
    [record] = connector.harvest(probe_file(table))
    assert [s.name for s in record.segments or []] == ["Right kidney", "Tumor"]
    table.write_text("# Color table file x.ctbl\n1 Kidney red green blue 255\n")
    with pytest.raises(CorruptFileError, match="line 2"):
        connector.harvest(probe_file(table))
    procedural = tmp_path / "p.txt"
    procedural.write_text("# Color procedural file x\n0 0 0 0\n")
    assert connector.detect(probe_file(procedural)) == 0.0
