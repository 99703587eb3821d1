"""Write the job-log samples of this folder (see README.md). Run: uv run python THIS_FILE."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

# OctoPrint PrintJobHistory "Export CSV": the plugin's header line, every field quoted,
# written by Python's csv module (CRLF line ends).
PJH_HEADER = [
    "User", "Print result [success canceled failed]", "Start Datetime [dd.mm.yyyy hh:mm]",
    "End Datetime [dd.mm.yyyy hh:mm]", "Duration", "File Name", "File Path",
    "File Size [bytes]", "Layers [current / total]", "Height [current / total]", "Note",
    "Temperatures [bed:temp tool0:temp]", "Spool Vendor", "Spool Name", "Material",
    "Diameter [mm]", "Density [g/cm3]", "Used Length [mm]", "Calculated Length [mm]",
    "Used Weight [g]", "Used Filament Cost",
]
PJH_ROWS = [
    ["lab", "success", "02.03.2026 08:15", "02.03.2026 11:02", "2h47m12s", "kidney_demo.gcode",
     "/cases/kidney_demo.gcode", "4183220", "212 / 212", "42.4 / 42.4",
     "demo print, colour: \"white\"", "bed:60 tool0:215 ", "Prusament", "Galaxy Black",
     "PLA", "1.75", "1.24", "14820.50", "14790.00", "44.13", "1.10"],
    ["lab", "canceled", "03.03.2026 09:00", "03.03.2026 09:41", "41m5s", "guide_demo.gcode",
     "/cases/guide_demo.gcode", "912004", "31 / 160", "6.2 / 32.0",
     "first layer lifted;\nstopped", "bed:85 tool0:240 ", "Prusament", "Jet Black", "PETG",
     "1.75", "1.27", "2210.00", "9900.00", "6.71", "0.20"],
    ["lab", "failed", "04.03.2026 22:10", "05.03.2026 01:30", "3h20m0s", "heart_demo.gcode",
     "/cases/heart_demo.gcode", "7700310", "300 / 420", "60.0 / 84.0", "", "bed:50 tool0:225 ",
     "Generic", "Flex", "TPU", "1.75", "1.21", "20100.00", "28000.00", "58.20", "2.31"],
    # A damaged row: a duration the export should never write, a weight that is a unit
    # mix-up (kg written as g), a start date in another format.
    ["lab", "success", "2026-03-06 10:00", "06.03.2026 12:30", "n/a", "spine_demo.gcode",
     "/cases/spine_demo.gcode", "1200", "10 / 10", "2.0 / 2.0", "", "bed:60 tool0:215 ",
     "Generic", "Grey", "PLA", "1.75", "1.24", "1000.00", "1000.00", "3200000.00", "0.00"],
]

GRABCAD_HEADER = [
    "Job Name", "Printer", "Printer Model", "Printer Serial", "Status", "Start Time",
    "End Time", "Print Time (hh:mm)", "Slice Height (in)", "Model Material",
    "Model Material Used (in³)", "Support Material", "Support Material Used (in³)", "Parts",
]


def grabcad_rows() -> list[list[object]]:
    """Three jobs: an F370 FDM job, a J750 PolyJet job, and one aborted."""
    return [
        ["mandible_guide_demo", "F370 Radiology", "F370", "F370-0001", "Completed",
         dt.datetime(2026, 3, 2, 8, 5), dt.datetime(2026, 3, 2, 14, 40), "6:31", 0.010,
         "ABS-M30i", 3.42, "QSR Support", 1.05, 2],
        ["heart_demo", "J750 Lab", "J750 Digital Anatomy", "J750-0042", "Completed",
         dt.datetime(2026, 3, 3, 9, 0), dt.datetime(2026, 3, 3, 21, 15), "12:10", 0.00106,
         "VeroClear", 9.8, "SUP706B", 14.2, 1],
        ["pelvis_demo", "F370 Radiology", "F370", "F370-0001", "Cancelled by user",
         dt.datetime(2026, 3, 4, 7, 30), dt.datetime(2026, 3, 4, 8, 2), "9:45", 0.010,
         "ABS-M30i", 0.31, "QSR Support", 0, 1],
    ]


def write_pjh() -> None:
    target = HERE / "octoprint-printjobhistory.csv"
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(PJH_HEADER)
        writer.writerows(PJH_ROWS)


def write_grabcad_xlsx() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Job History"
    sheet.append(["Job History Report"])
    sheet.append(["Date range", "03/01/2026 - 03/31/2026"])
    sheet.append([])
    sheet.append(GRABCAD_HEADER)
    for row in grabcad_rows():
        sheet.append(row)
    summary = workbook.create_sheet("Summary")
    summary.append(["Jobs", 3])
    fixed = dt.datetime(2026, 3, 31, 12, 0, 0)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    target = HERE / "grabcad-print-report.xlsx"
    workbook.save(target)
    _fix_zip_times(target)


def write_grabcad_csv() -> None:
    """The same report saved by a European Excel: BOM, ';' delimiter, decimal commas."""
    target = HERE / "grabcad-print-report.csv"
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(GRABCAD_HEADER)
        for row in grabcad_rows():
            writer.writerow([
                v.strftime("%m/%d/%Y %I:%M %p") if isinstance(v, dt.datetime)
                else str(v).replace(".", ",") if isinstance(v, float) else v
                for v in row])


def _fix_zip_times(path: Path) -> None:
    """Rewrite the workbook with fixed member times so the file (and its sha256) is stable."""
    import zipfile

    data = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data[info.filename] = zf.read(info)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in data.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 31, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if name == "docProps/core.xml":
                # openpyxl stamps the save time into the document properties.
                content = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-03-31T12:00:00Z",
                                 content)
            zf.writestr(info, content)


if __name__ == "__main__":
    write_pjh()
    write_grabcad_xlsx()
    write_grabcad_csv()
