"""Write the segmentation samples with the real tools (never patient data).

Run from the repository root:  uv run python sample_jobs/make_segmentations.py

* ``formats/slicer-seg/kidney.seg.nrrd``: a 3D Slicer segmentation written by ``slicerio``
  (through ``pynrrd``): right kidney, tumour (mass in the right kidney), renal artery with no
  terminology;
* ``formats/slicer-mrb/liver_scene.mrb``: a scene bundle (Slicer 5.6.2) around a
  ``.seg.nrrd`` of liver and tumour;
* ``formats/dicom-seg/heart_seg.dcm``: a DICOM SEG written by ``highdicom`` over a synthetic
  3-slice CT: heart, aorta;
* ``formats/dicom-rtstruct/pelvis_rtstruct.dcm``: an RT Structure Set written with
  ``pydicom``: left femur (with its volume), pelvis, bladder (no terminology);
* ``cases/3DP-2026-003_kidney_segmentation/``: the demo's segmentation case, a whole job:
  ``kidney_scene.mrb`` (Slicer 5.6.2: right kidney, tumour, aorta, all coded, so the demo
  shows every part prefilled from codes), a synthetic CT series (``dicom/``, pydicom), one
  STL per segment as Slicer exports them (trimesh shapes) and their G-code from Debian's
  ``prusa-slicer``.

Check the DICOM ones with dcmtk: ``dcmdump formats/dicom-seg/heart_seg.dcm``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import trimesh

from printharvest.testing.seg_synth import (
    write_dicom_seg,
    write_mrb,
    write_rtstruct,
    write_seg_nrrd,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_dicom import identity  # noqa: E402  (the same synthetic identity as the others)
from make_samples import PRINTER_INI  # noqa: E402

from printharvest.testing.dicom_synth import uid, write_slice  # noqa: E402

CASE = HERE / "cases" / "3DP-2026-003_kidney_segmentation"
KIDNEY = ("SCT", "64033007", "Kidney")
RIGHT = ("SCT", "24028007", "Right")
LEFT = ("SCT", "7771000", "Left")
MASS = ("SCT", "4147007", "Mass")
ALTERED = ("SCT", "49755003", "Morphologically Altered Structure")
TUMOUR_IN = {"category": ALTERED, "type": MASS}


def main() -> None:
    """Write every segmentation sample."""
    formats = HERE / "formats"
    write_seg_nrrd(formats / "slicer-seg" / "kidney.seg.nrrd", [
        ("Right kidney", {"type": KIDNEY, "type_modifier": RIGHT}),
        ("Tumor", {**TUMOUR_IN, "region": KIDNEY, "region_modifier": RIGHT}),
        ("Renal artery", {}),
    ])
    with tempfile.TemporaryDirectory() as tmp:
        inner = write_seg_nrrd(Path(tmp) / "Segmentation.seg.nrrd", [
            ("Liver", {"type": ("SCT", "10200004", "Liver")}),
            ("Lesion", {**TUMOUR_IN, "region": ("SCT", "10200004", "Liver")}),
        ])
        write_mrb(formats / "slicer-mrb" / "liver_scene.mrb", inner)
        write_dicom_seg(formats / "dicom-seg" / "heart_seg.dcm", Path(tmp) / "ct", [
            ("Heart", {"type": ("SCT", "80891009", "Heart")}),
            ("Aorta", {"type": ("SCT", "15825003", "Aorta")}),
        ])
        case_seg = write_seg_nrrd(Path(tmp) / "kidney" / "Segmentation.seg.nrrd", [
            ("Right kidney", {"type": KIDNEY, "type_modifier": RIGHT}),
            ("Tumor", {**TUMOUR_IN, "region": KIDNEY, "region_modifier": RIGHT}),
            ("Aorta", {"type": ("SCT", "15825003", "Aorta")}),
        ])
        write_mrb(CASE / "kidney_scene.mrb", case_seg)
    case_job(CASE)
    write_rtstruct(formats / "dicom-rtstruct" / "pelvis_rtstruct.dcm", [
        ("Pelvis", {"type": ("SCT", "12921003", "Pelvis")}, 310.0),
        ("Femur L", {"type": ("SCT", "71341001", "Femur"), "type_modifier": LEFT}, 420.5),
        ("Bladder", {}, None),
    ])


def case_job(folder: Path) -> None:
    """The rest of the demo job: CT series, one mesh per segment, their G-code."""
    study, series = uid("kidneyseg", "study"), uid("kidneyseg", "ct-series")
    attrs = {**identity("KIDNEYSEG", "SYN-0003"), "PatientSex": "M", "PatientAge": "058Y",
             "StudyDate": "20260107", "SeriesDate": "20260107", "Manufacturer": "SIEMENS",
             "SliceThickness": "0.75", "ContrastBolusAgent": "IODINATED"}
    for n in range(1, 4):
        write_slice(folder / "dicom" / f"CT{n:04d}.dcm", modality="CT", study_uid=study,
                    series_uid=series, number=n, attributes=attrs, size=16)
    kidney = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    kidney.apply_scale([28.0, 16.0, 13.0])
    tumour = trimesh.creation.icosphere(subdivisions=3, radius=7.0)
    system = trimesh.creation.cylinder(radius=3.0, height=20.0, sections=24)
    meshes = {"Segmentation_Right kidney.stl": kidney, "Segmentation_Tumor.stl": tumour,
              "Segmentation_Aorta.stl": system}
    for name, mesh in meshes.items():
        assert mesh.is_watertight
        mesh.apply_translation(-mesh.bounds[0])
        mesh.export(folder / name)
    slicer = shutil.which("prusa-slicer")
    if slicer is None:
        raise SystemExit("prusa-slicer is not installed (apt-get install prusa-slicer)")
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp) / "profile.ini"
        ini.write_text(PRINTER_INI.format(printer_model="MK4S", filament_type="PLA",
                                          filament_name="Prusament PLA", density=1.24,
                                          layer_height=0.2), encoding="utf-8")
        subprocess.run([slicer, "--export-gcode", "--load", str(ini),
                        "-o", str(folder / "kidney_segments.gcode"),
                        *(str(folder / name) for name in meshes)],
                       check=True, capture_output=True)


if __name__ == "__main__":
    main()
