"""Conformance over a real corpus: every file pydicom ships in its wheel.

pydicom's test files were written by scanners and toolkits other than ours (GE, Siemens,
Philips, dcmtk, GDCM; CT, MR, US, NM, RT, SR, SEG, JPEG and RLE, big endian, implicit VR,
no preamble, no meta) and its character-set files cover every Specific Character Set it
decodes. For each one, ``inspect`` must give either a record whose modality, patient sex
and age equal what pydicom itself reads (age by the contract rules), or a one-line reason;
never an empty answer with no word.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from printharvest.app import App
from printharvest.privacy import phi


def _corpus() -> list[Path]:
    from pydicom.data import get_charset_files, get_testdata_files

    files = {Path(p) for p in (*get_testdata_files(), *get_charset_files())}
    return sorted(p for p in files if p.is_file())


CORPUS = _corpus()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One read-only app for the whole corpus (the test stays fast: no process per file)."""
    opened = App.open(tmp_path_factory.mktemp("corpus-home"))
    opened.read_only = True
    yield opened
    opened.close()


def _pydicom_reads(path: Path) -> dict[str, Any] | None:
    """Modality, sex and age as pydicom reads them (full parse, no allow-list), or None."""
    from pydicom import dcmread

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = dcmread(path, force=True, stop_before_pixels=True)
            values = {k: ds.get(k) for k in ("Modality", "PatientSex", "PatientAge",
                                             "PatientBirthDate", "StudyDate", "SeriesDate",
                                             "AcquisitionDate")}
        except Exception:
            return None

    def text(keyword: str) -> str | None:
        value = values.get(keyword)
        return str(value).strip() if value not in (None, "") else None

    age = phi.age_from_dicom(text("PatientAge"))
    if age is None:
        birth = phi.parse_da(text("PatientBirthDate"))
        for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate"):
            on = phi.parse_da(text(keyword))
            if on is not None:
                age = phi.age_between(birth, on)
                break
    return {"modality": (text("Modality") or "").upper() or None,
            "sex": phi.sex_code(text("PatientSex")), "age": age}


def test_the_corpus_is_there() -> None:
    # A pydicom without its test files would make the conformance test vacuous.
    assert len(CORPUS) > 150
    assert any(p.name == "chrJapMulti.dcm" for p in CORPUS)
    assert any(p.name == "CT_small.dcm" for p in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_pydicom_file_gives_a_true_record_or_one_line(app: App, path: Path) -> None:
    outcome = app.harvester.harvest_paths([path], grouping="root")
    records, errors = outcome.records, outcome.errors
    assert records or errors, "nothing harvested and no word why"
    for error in errors:
        assert error.reason and "\n" not in str(error)
    if not records:
        return
    expected = _pydicom_reads(path)
    assert expected is not None, "a record from a file pydicom cannot read"
    imaging = [r for r in records if r.kind == "imaging"]
    if not imaging:
        # Segmentation objects are read by their own path (kind "segmentation").
        assert {r.kind for r in records} <= {"segmentation", "mesh"}
        return
    [record] = imaging
    assert record.imaging is not None
    assert record.imaging.modalities == ([expected["modality"]] if expected["modality"]
                                         else [])
    assert record.imaging.patient_sex == expected["sex"]
    assert record.imaging.patient_age_years == expected["age"]


@pytest.mark.parametrize("name", ["chrArab.dcm", "chrFren.dcm", "chrFrenMulti.dcm",
                                  "chrGerm.dcm", "chrGreek.dcm", "chrH31.dcm", "chrH32.dcm",
                                  "chrHbrw.dcm", "chrI2.dcm", "chrJapMulti.dcm",
                                  "chrJapMultiExplicitIR6.dcm", "chrKoreanMulti.dcm",
                                  "chrRuss.dcm", "chrX1.dcm", "chrX2.dcm"])
def test_every_character_set_file_is_a_record(app: App, name: str) -> None:
    [path] = [p for p in CORPUS if p.name == name]
    outcome = app.harvester.harvest_paths([path], grouping="root")
    assert outcome.errors == [] and [r.kind for r in outcome.records] == ["imaging"]


@pytest.mark.parametrize(("name", "reason"), [
    ("rtplan.dcm", "RT plan (RTPLAN): holds no image"),
    ("rtdose.dcm", "RT dose (RTDOSE): holds no image"),
    ("ExplVR_BigEndNoMeta.dcm", "RT plan (RTPLAN): holds no image"),
    ("test-SR.dcm", "structured report (SR): holds no image"),
    ("DICOMDIR", "DICOMDIR: an index of a media set, holds no image"),
])
def test_objects_without_an_image_say_why(app: App, name: str, reason: str) -> None:
    [path] = [p for p in CORPUS if p.name == name][:1]
    outcome = app.harvester.harvest_paths([path], grouping="root")
    assert outcome.records == []
    [error] = outcome.errors
    assert error.reason.startswith(reason)


def test_a_bad_file_does_not_sink_a_scanner_series(app: App, tmp_path: Path) -> None:
    # A real MR series (Specific Character Set ISO_IR 100) with one file cut short.
    series = [p for p in CORPUS if p.parent.name == "MR2"]
    folder = tmp_path / "series"
    folder.mkdir()
    for path in series:
        (folder / f"{path.name}.dcm").write_bytes(path.read_bytes())
    data = series[0].read_bytes()
    (folder / "cut.dcm").write_bytes(data[: len(data) // 2])
    outcome = app.harvester.harvest_paths([folder], grouping="root")
    [record] = outcome.records
    assert record.imaging is not None and record.imaging.modalities == ["MR"]
    assert f"1 of {len(series) + 1} DICOM file(s) in this set could not be read" \
        in " ".join(record.warnings)
    [error] = outcome.errors
    assert error.path.endswith("cut.dcm")


@pytest.mark.parametrize(("charset", "maker"), [
    ("ISO_IR 100", "Sïemens Médical"),
    ("ISO_IR 192", "東芝メディカル"),
    ("ISO_IR 144", "Электрон"),
    ("GB18030", "联影医疗"),
    (["", "ISO 2022 IR 87"], "キヤノン医療"),
    (["ISO 2022 IR 6", "ISO 2022 IR 149"], "삼성메디슨"),
])
def test_values_decode_in_their_character_set(app: App, tmp_path: Path, charset: Any,
                                              maker: str) -> None:
    from printharvest.testing.dicom_synth import uid, write_slice

    path = write_slice(tmp_path / "im.dcm", modality="CT", study_uid=uid("cs"),
                       series_uid=uid("cs", "s"), number=1,
                       attributes={"SpecificCharacterSet": charset, "Manufacturer": maker,
                                   "PatientName": f"{maker}^SYNTHETIC", "PatientSex": "F"})
    outcome = app.harvester.harvest_paths([path], grouping="root")
    [record] = outcome.records
    assert record.imaging is not None
    assert record.imaging.scanner_manufacturers == [maker]
    assert record.imaging.patient_sex == "F"
