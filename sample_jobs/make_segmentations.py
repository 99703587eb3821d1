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
* ``cases/3DP-2026-003_kidney_segmentation/kidney_scene.mrb``: the demo's segmentation case:
  right kidney, tumour, and a ureter coded with a term the shipped rules do not map (left for
  the data manager, with the segment name as hint).

Check the DICOM ones with dcmtk: ``dcmdump formats/dicom-seg/heart_seg.dcm``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from printharvest.testing.seg_synth import (
    write_dicom_seg,
    write_mrb,
    write_rtstruct,
    write_seg_nrrd,
)

HERE = Path(__file__).resolve().parent
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
            ("Collecting system", {"type": ("SCT", "87953007", "Ureter"),
                                   "type_modifier": RIGHT}),
        ])
        write_mrb(HERE / "cases" / "3DP-2026-003_kidney_segmentation" / "kidney_scene.mrb",
                  case_seg)
    write_rtstruct(formats / "dicom-rtstruct" / "pelvis_rtstruct.dcm", [
        ("Pelvis", {"type": ("SCT", "12921003", "Pelvis")}, 310.0),
        ("Femur L", {"type": ("SCT", "71341001", "Femur"), "type_modifier": LEFT}, 420.5),
        ("Bladder", {}, None),
    ])


if __name__ == "__main__":
    main()
