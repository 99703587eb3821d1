"""PHI in segmentations: tokens in segment names, series descriptions and scene file names.

Segment / ROI names, color table label names and scene file names are local text (name
tokens): they may sit in the local store, never in anything that leaves. Series descriptions
and patient attributes of a SEG or RTSTRUCT are DICOM value tokens: never read, so never
anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from printharvest.privacy import phi
from printharvest.testing.seg_synth import (
    write_dicom_seg,
    write_mrb,
    write_rtstruct,
    write_seg_nrrd,
)
from tests.privacy.test_phi import EGRESS_COMMANDS, complete_and_mark_ready, run_commands
from tests.support.privacy import scan_tree

KIDNEY = ("SCT", "64033007", "Kidney")
NAMES = {"segment": "SEGNAMETOKQ", "roi": "ROINAMETOKQ", "label": "SEGLABELTOKQ",
         "scene": "SCENEFILETOKQ", "member": "MEMBERTOKQ", "node": "NODENAMETOKQ",
         "colortable": "CTBLNAMETOKQ"}
VALUES = {"SeriesDescription": "PHISERIESDESCQ", "PatientName": "PHIPATNAMEQ^SYNTH",
          "PatientID": "PHIPATIDQ", "StudyDescription": "PHISTUDYDESCQ"}


def make_job(inbox: Path, tmp: Path) -> None:
    job = inbox / "3DP-2026-091"
    inner = write_seg_nrrd(tmp / f"{NAMES['member']}.seg.nrrd", [
        (f"Kidney {NAMES['segment']}", {"type": KIDNEY}), (NAMES["segment"], {})])
    write_mrb(job / f"{NAMES['scene']}.mrb", inner, scene=NAMES["scene"], node=NAMES["node"])
    write_dicom_seg(job / "seg.dcm", tmp / "ct", [(f"Kidney {NAMES['label']}", {"type": KIDNEY})],
                    attributes=VALUES)
    write_rtstruct(job / "rt.dcm", [(f"{NAMES['roi']} kidney", {"type": KIDNEY}, 12.0)],
                   attributes=VALUES)
    # A label map's CSV color table, as Slicer writes it (quoted text cells).
    label = NAMES["colortable"]
    (job / "label_ColorTable.csv").write_text(
        '"LabelValue","Name","Color_R","Color_G","Color_B","Color_A","Category_CodingScheme",'
        '"Category_CodeValue","Category_CodeMeaning","Type_CodingScheme","Type_CodeValue",'
        '"Type_CodeMeaning"\n'
        f'1,"Kidney {label}",1,2,3,255,"SCT","123037004","Anatomical Structure",'
        '"SCT","64033007","Kidney"\n'
        f'2,"{label}",1,2,3,255,"","","","","",""\n', encoding="utf-8")


def test_segment_names_and_scene_names_never_leave(tmp_path: Path, run_cli: Any) -> None:
    inbox, home = tmp_path / "inbox", tmp_path / "home"
    make_job(inbox, tmp_path / "work")
    home.mkdir()
    raw = b"".join(p.read_bytes() for p in inbox.rglob("*") if p.is_file())
    assert sorted(phi.egress_check(raw, [*VALUES.values(), NAMES["label"], NAMES["roi"]])) \
        == sorted([*VALUES.values(), NAMES["label"], NAMES["roi"]])  # planted for real
    local = run_commands(run_cli, home, inbox, [("ingest", "{inbox}"),
                                                ("cases", "show", "1", "--json")])
    shown = local["cases show 1 --json"]
    assert '"parts.1.structure"' in shown and "kidney" in shown  # the flow really ran
    assert NAMES["segment"] in shown  # the local hint is there for the data manager
    assert NAMES["colortable"] in shown  # the color table was read: its unknown label too
    complete_and_mark_ready(home)
    egress = run_commands(run_cli, home, inbox, EGRESS_COMMANDS)
    values, names = list(VALUES.values()), list(NAMES.values())
    for command, text in {**local, **egress}.items():
        assert phi.egress_check(text, values) == [], command
    for command, text in egress.items():
        assert phi.egress_check(text, names) == [], command
    assert scan_tree(home, values) == {}
    assert scan_tree(home / "exports", values + names) == {}
