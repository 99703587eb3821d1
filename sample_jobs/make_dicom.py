"""Write the synthetic DICOM samples (never patient data; the same bytes on every run).

Run from the repository root:  uv run python sample_jobs/make_dicom.py

Headers are shaped like a scanner's: Specific Character Set (0008,0005), some 75
standard elements (acquisition, equipment, geometry, display: ``scanner_header``) and the
vendor's private blocks (``SCANNER_PRIVATE``), explicit and implicit VR.

* ``cases/3DP-2026-001_kidney/dicom/``: one contrast CT series (GE-like, ``ISO_IR 100``,
  accented Latin-1 names, GE private groups 0009/0043, explicit VR), 4 tiny slices,
  PatientAge given (063Y), thinnest slice 1.0 mm.
* ``cases/3DP-2026-002_mandible/dicom/``: one MR study of two series (Siemens-like,
  ``ISO_IR 192`` with CJK names, private groups 0019/0029; 3 slices each), no PatientAge
  (the age comes from birth date against study date), files without extension, one series
  explicit VR with preamble, the other a bare implicit-VR data set (no preamble, no meta).
* ``formats/dicom/multi_study.zip``: two studies (CT with contrast + PT) of one synthetic
  patient, four series, a DICOMDIR, one patient older than 89 (age reported as 90).
* ``formats/dicom/encapsulated_stl.dcm``: an Encapsulated STL (modality M3D) of a 10 mm cube.

Every identifying attribute holds an obviously synthetic value (``SYNTHETIC^...``).
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

from printharvest.testing.dicom_synth import (
    SCANNER_PRIVATE,
    scanner_header,
    uid,
    write_dicomdir_like,
    write_encapsulated_mesh,
    write_slice,
)

HERE = Path(__file__).resolve().parent

ZIP_DATE = (2026, 1, 2, 3, 4, 6)


def identity(name: str, patient_id: str) -> dict[str, object]:
    """Synthetic identifying attributes, as a real scanner would fill them."""
    return {
        "PatientName": f"SYNTHETIC^{name}",
        "PatientID": patient_id,
        "AccessionNumber": f"SYN{patient_id}",
        "InstitutionName": "Synthetic Hospital",
        "ReferringPhysicianName": "SYNTHETIC^REFERRER",
        "StudyID": "1",
    }


def kidney(folder: Path) -> None:
    """A contrast CT series of four 16x16 slices."""
    study = uid("kidney", "study")
    series = uid("kidney", "ct-series")
    attrs = {
        **scanner_header("CT", "GE MEDICAL SYSTEMS"),
        **identity("KIDNEY", "SYN-0001"),
        "SpecificCharacterSet": "ISO_IR 100", "PatientName": "SYNTHÉTIQUE^REIN^Zoë",
        "PatientSex": "F", "PatientAge": "063Y", "PatientBirthDate": "19621003",
        "StudyDate": "20260105", "SeriesDate": "20260105", "StudyDescription": "CT ABDOMEN",
        "SeriesDescription": "ARTERIAL 1.0", "Manufacturer": "GE MEDICAL SYSTEMS",
        "ManufacturerModelName": "Revolution CT", "SliceThickness": "1.0",
        "ContrastBolusAgent": "IODINATED", "ContrastBolusRoute": "IV",
    }
    for n in range(1, 5):
        write_slice(folder / f"CT{n:04d}.dcm", modality="CT", study_uid=study,
                    series_uid=series, number=n, attributes=attrs, size=16,
                    private=SCANNER_PRIVATE["GE MEDICAL SYSTEMS"])


def mandible(folder: Path) -> None:
    """An MR study of two series; files without extension, one series without preamble."""
    study = uid("mandible", "study")
    base = {
        **scanner_header("MR", "SIEMENS"), "BodyPartExamined": "HEAD",
        **identity("MANDIBLE", "SYN-0002"), "SpecificCharacterSet": "ISO_IR 192",
        "PatientName": "合成^下顎=SYNTHETIC^MANDIBLE", "PatientSex": "M",
        "PatientBirthDate": "19800615", "StudyDate": "20260112", "SeriesDate": "20260112",
        "Manufacturer": "SIEMENS", "ManufacturerModelName": "MAGNETOM Vida",
        "StudyDescription": "MR FACE",
    }
    for label, thickness, preamble in (("t1", "3.0", True), ("t2", "2.5", False)):
        series = uid("mandible", label)
        attrs = {**base, "SeriesDescription": f"{label.upper()} AX", "SliceThickness": thickness}
        for n in range(1, 4):
            write_slice(folder / label / f"IM{n:04d}", modality="MR", study_uid=study,
                        series_uid=series, number=n, attributes=attrs, preamble=preamble,
                        meta=preamble, implicit=not preamble,
                        private=SCANNER_PRIVATE["SIEMENS"])


def multi_study(target: Path) -> None:
    """Two studies, four series, a DICOMDIR; zipped with fixed dates."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        base = {**identity("MULTI", "SYN-0003"), "PatientSex": "F", "PatientAge": "093Y"}
        ct_study, pet_study = uid("multi", "ct-study"), uid("multi", "pet-study")
        plans = [
            ("ct/arterial", "CT", ct_study, "0.625", {"ContrastBolusAgent": "IODINATED"}),
            ("ct/venous", "CT", ct_study, "1.25", {"ContrastBolusAgent": "IODINATED"}),
            ("pet/ac", "PT", pet_study, "3.27", {}),
            ("pet/ct", "CT", pet_study, "3.75", {}),
        ]
        for name, modality, study, thickness, extra in plans:
            series = uid("multi", name)
            attrs = {**base, **extra, "SliceThickness": thickness,
                     "Manufacturer": "SIEMENS" if modality == "PT" else "TOSHIBA",
                     "StudyDate": "20260120"}
            for n in range(1, 3):
                write_slice(root / name / f"{n:04d}.dcm", modality=modality, study_uid=study,
                            series_uid=series, number=n, attributes=attrs)
        write_dicomdir_like(root / "DICOMDIR")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, path.read_bytes())
        target.write_bytes(buffer.getvalue())


def cube_stl(size: float = 10.0) -> bytes:
    """A binary STL of an axis-aligned cube (12 triangles), written from the format facts."""
    import struct

    corners = [(x, y, z) for x in (0.0, size) for y in (0.0, size) for z in (0.0, size)]
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    out = bytearray(b"synthetic cube".ljust(80, b" "))
    out += struct.pack("<I", 12)
    for a, b, c, d in quads:
        for tri in ((a, b, c), (a, c, d)):
            out += struct.pack("<3f", 0.0, 0.0, 0.0)
            for i in tri:
                out += struct.pack("<3f", *corners[i])
            out += b"\x00\x00"
    return bytes(out)


def main() -> None:
    """Regenerate every DICOM sample."""
    cases = HERE / "cases"
    for folder in (cases / "3DP-2026-001_kidney" / "dicom", cases / "3DP-2026-002_mandible"
                   / "dicom"):
        shutil.rmtree(folder, ignore_errors=True)
    kidney(cases / "3DP-2026-001_kidney" / "dicom")
    mandible(cases / "3DP-2026-002_mandible" / "dicom")
    formats = HERE / "formats" / "dicom"
    formats.mkdir(parents=True, exist_ok=True)
    multi_study(formats / "multi_study.zip")
    study = uid("m3d", "study")
    write_encapsulated_mesh(formats / "encapsulated_stl.dcm", cube_stl(), mime="model/stl",
                            study_uid=study, series_uid=uid("m3d", "mesh-series"),
                            source_series_uid=uid("m3d", "ct-series"),
                            attributes={**identity("M3D", "SYN-0004"), "PatientSex": "O"})
    print("wrote the DICOM samples")


if __name__ == "__main__":
    main()
