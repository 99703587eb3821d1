"""THE PHI test: tokens planted everywhere identifying, the whole flow run, every byte scanned.

Two kinds of planted tokens (DESIGN.md section 4):

* **DICOM value tokens**, one per identifying attribute pydicom knows (the Annex E basic
  profile widened by :func:`printharvest.privacy.phi.identifying_keywords`), in private tags and
  inside sequences: never anywhere (no output, no byte in the home, no log, no warning);
* **name tokens** in folder names, file names and a print job name inside G-code: they may
  sit in the local store and the local terminal (a record's ``source.path``), but never in
  anything that leaves (exports, API payloads, reports, public error messages).

To cover a new command that writes or sends something, add it to ``LOCAL_COMMANDS`` or
``EGRESS_COMMANDS`` (and any folder it writes to is already scanned: the whole home is).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from printharvest.app import App
from printharvest.harvest.harvester import Harvester
from printharvest.harvest.plugins import PluginHost
from printharvest.privacy import phi
from printharvest.rules.lab import Rules
from printharvest.testing.dicom_synth import write_slice
from tests.support.cases import valid_value
from tests.support.paths import DEMO_CASES
from tests.support.privacy import scan_tree

CASE = "3DP-2026-090"
NAME_TOKENS = {
    "folder": "NAMETOKFOLDERQ", "series": "NAMETOKSERIESQ", "file": "NAMETOKFILEQ",
    "job": "NAMETOKJOBQ", "gcode": "NAMETOKGCODEQ",
    "spool": "NAMETOKSPOOLQ", "printer": "NAMETOKPRINTERQ",
}
_TEXT_VRS = {"PN", "LO", "SH", "LT", "ST", "UT", "UC", "CS", "UR", "AE"}

# Commands whose output stays on the lab's own terminal or disk: DICOM value tokens only.
LOCAL_COMMANDS: list[tuple[str, ...]] = [
    ("inspect", "--json", "{inbox}"),
    ("inspect", "{inbox}"),
    ("ingest", "{inbox}"),
    ("cases", "list", "--json"),
    ("cases", "list"),
    ("cases", "show", "1", "--json"),
    ("cases", "show", "1"),
    ("doctor",),
]
# Commands whose output leaves the lab (exports, submissions, reports): no token of either
# kind, neither in what they print nor in the files they write into exports/.
# (An export moves the case to "exported"; `cases ready` puts it back for the next format.)
EGRESS_COMMANDS: list[tuple[str, ...]] = [
    ("export", "--format", "psv"),
    ("cases", "ready", "1"),
    ("export", "--format", "xlsx"),
    ("cases", "ready", "1"),
    ("export", "--format", "json"),
    ("sheet", "1"),
    ("report",),
    ("report", "--format", "csv"),
]


def _token_for(k: int, vr: str) -> str:
    """A unique value of the right shape for one attribute."""
    if vr == "DA":
        return (date(1901, 1, 1) + timedelta(days=37 * k)).strftime("%Y%m%d")
    if vr == "DT":
        return (date(1901, 1, 1) + timedelta(days=37 * k)).strftime("%Y%m%d") + "121314"
    if vr == "TM":
        return f"235959.{k:06d}"
    if vr == "UI":
        return f"1.2.826.0.1.3680043.10.1462.77.1{k:05d}9"
    if vr == "DS":
        return f"7{k:04d}.98765"
    if vr == "IS":
        return f"9{k:05d}8"
    return f"PHIV{k:04d}X"


def plant(folder: Path, slices: int = 2) -> list[str]:
    """Write one series whose every identifying attribute holds a unique token."""
    from pydicom import config
    from pydicom.dataset import Dataset

    planted: dict[str, Any] = {}
    tokens: list[str] = []
    for k, (keyword, (_, vr)) in enumerate(sorted(phi.identifying_keywords().items())):
        if vr in _TEXT_VRS or vr in ("DA", "DT", "TM", "UI", "DS", "IS"):
            if keyword in ("SOPInstanceUID", "MediaStorageSOPInstanceUID"):
                continue  # per slice, below
            planted[keyword] = _token_for(k, vr)
            tokens.append(planted[keyword])
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    for k, keyword in enumerate(sorted(phi.annex_e_tags()), start=5000):
        tag = tag_for_keyword(keyword)
        if tag is not None and dictionary_VR(tag) == "SQ":
            item = Dataset()
            item.CodeMeaning = _token_for(k, "LO")
            item.ReferencedSOPInstanceUID = _token_for(k, "UI")
            planted[keyword] = [item]
            tokens += [item.CodeMeaning, item.ReferencedSOPInstanceUID]
    previous = config.settings.writing_validation_mode
    config.settings.writing_validation_mode = config.IGNORE
    try:
        for n in range(1, slices + 1):
            path = folder / f"{NAME_TOKENS['file']}_{n:04d}.dcm"
            write_slice(path, modality="CT", study_uid=planted["StudyInstanceUID"],
                        series_uid=planted["SeriesInstanceUID"], number=n,
                        attributes={k: v for k, v in planted.items()
                                    if k not in ("StudyInstanceUID", "SeriesInstanceUID")})
            tokens += _add_private_and_instance_tokens(path, n)
    finally:
        config.settings.writing_validation_mode = previous
    return sorted(set(tokens))


def _add_private_and_instance_tokens(path: Path, n: int) -> list[str]:
    """Private tags (creator and values) and per-slice instance UIDs, written in place."""
    from pydicom import dcmread

    ds = dcmread(path)
    creator = f"PHIPRIVCREATOR{n}"
    block = ds.private_block(0x0009, creator, create=True)
    private = [f"PHIPRIVLO{n:03d}", f"PHIPRIVUT{n:03d}"]
    block.add_new(0x01, "LO", private[0])
    block.add_new(0x02, "UT", private[1])
    instance = _token_for(9000 + n, "UI")
    ds.SOPInstanceUID = instance  # type: ignore[assignment]
    ds.file_meta.MediaStorageSOPInstanceUID = instance  # type: ignore[assignment]
    ds.save_as(path, enforce_file_format=True)
    return [creator, *private, instance]


def make_job(inbox: Path) -> tuple[list[str], list[str]]:
    """The planted job: a DICOM series and a G-code file; returns (value, name) tokens."""
    job = inbox / f"{CASE} {NAME_TOKENS['folder']}"
    values = plant(job / f"series {NAME_TOKENS['series']}")
    gcode = (DEMO_CASES / "3DP-2026-001_kidney" / "kidney_tumour.gcode").read_text()
    gcode = f"; printing object {NAME_TOKENS['job']}\n" + gcode
    # Free text in the slicer's own settings: a spool label and a printer name a lab typed.
    gcode = gcode.replace('; filament_settings_id = "Prusament PLA"',
                          f'; filament_settings_id = "Prusament PLA {NAME_TOKENS["spool"]}"')
    gcode = gcode.replace("; printer_model = MK4S",
                          f"; printer_model = MK4S {NAME_TOKENS['printer']}")
    (job / f"{NAME_TOKENS['gcode']}.gcode").write_text(gcode)
    return values, sorted(NAME_TOKENS.values())


@contextlib.contextmanager
def captured_logs_and_warnings() -> Iterator[list[str]]:
    """Every log line (root logger, DEBUG) and every warning raised inside the block."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield lines
        lines.extend(str(w.message) for w in caught)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def complete_and_mark_ready(home: Path) -> None:
    """Type a valid value for every element still missing, then mark the case ready."""
    app = App.open(home)
    try:
        case = app.cases.get(1)
        values = {}
        for name in case.missing:
            ref = app.dictionary.resolve(name)
            assert ref is not None
            values[name] = valid_value(ref.element)
        app.cases.set_values(1, values, "data-manager")
        app.cases.mark_ready(1, "data-manager")
    finally:
        app.close()


def run_commands(run_cli: Any, home: Path, inbox: Path,
                 commands: list[tuple[str, ...]]) -> dict[str, str]:
    """Run each command against ``home``; ``{command line: stdout + stderr}``."""
    printed: dict[str, str] = {}
    for command in commands:
        args = [a.format(inbox=inbox) for a in command]
        result = run_cli("--home", str(home), *args)
        assert result.code in (0, 1), (args, result.err)
        printed[" ".join(command)] = result.out + result.err
    return printed


def test_no_planted_token_is_stored_logged_or_printed(tmp_path: Path, run_cli: Any) -> None:
    inbox = tmp_path / "inbox"
    home = tmp_path / "home"
    home.mkdir()  # only init and demo make a home
    values, names = make_job(inbox)
    assert len(values) > 600  # every identifying attribute pydicom knows, and private tags
    with captured_logs_and_warnings() as logs:
        local = run_commands(run_cli, home, inbox, LOCAL_COMMANDS)
        complete_and_mark_ready(home)
        egress = run_commands(run_cli, home, inbox, EGRESS_COMMANDS)
    # the flow really ran: one case with the DICOM facts and the print
    assert '"imaging.study_count"' in local["cases show 1 --json"]
    assert '"patient_age_years"' in local["inspect --json {inbox}"]
    assert '"kind": "print"' in local["inspect --json {inbox}"]
    for command, text in local.items():
        assert phi.egress_check(text, values) == [], command
    for command, text in egress.items():
        assert phi.egress_check(text, values + names) == [], command
    assert phi.egress_check("\n".join(logs), values) == []
    written = scan_tree(home, values)
    assert written == {}, written
    exports = sorted((home / "exports").iterdir())
    assert {p.suffix for p in exports} >= {".txt", ".xlsx", ".json", ".html", ".csv"}
    assert scan_tree(home / "exports", values + names) == {}
    assert any(p.name.endswith("-wal") or p.suffix == ".db" for p in home.iterdir())


def test_planted_tokens_are_detectable(tmp_path: Path) -> None:
    """The scan itself works: tokens are found in the raw files they were planted in."""
    values = plant(tmp_path / "series", slices=1)
    raw = b"".join(p.read_bytes() for p in (tmp_path / "series").iterdir())
    missing = sorted(set(values) - set(phi.egress_check(raw, values)))
    assert missing == []
    assert phi.egress_check("x PHIV0001x y".encode("utf-16-le"), ["PHIV0001X"]) == ["PHIV0001X"]


def test_public_error_messages_carry_no_names(tmp_path: Path) -> None:
    """Errors shown beyond the terminal (public_message) name neither file nor folder."""
    inbox = tmp_path / "inbox"
    _, names = make_job(inbox)
    job = next(inbox.iterdir())
    (job / f"{NAME_TOKENS['file']}_broken.dcm").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    shutil.copy(next(job.rglob("*.dcm")), job / f"{NAME_TOKENS['file']}_cut.dcm")
    cut = job / f"{NAME_TOKENS['file']}_cut.dcm"
    cut.write_bytes(cut.read_bytes()[:300])
    harvester = Harvester(PluginHost.load(None, entry_points=False), Rules.load(None))
    outcome = harvester.harvest_paths([inbox], grouping="case")
    assert len(outcome.errors) == 2
    for error in outcome.errors:
        assert phi.egress_check(error.public_message, names) == []
        assert phi.egress_check(str(error), [NAME_TOKENS["file"]])  # the terminal line names it


@pytest.mark.parametrize("keyword", ["PatientName", "PatientID", "InstitutionName",
                                     "StudyDescription", "DeviceSerialNumber", "PatientAge",
                                     "PatientSex", "StudyInstanceUID"])
def test_the_net_covers_the_usual_suspects(keyword: str) -> None:
    assert keyword in phi.identifying_keywords()
