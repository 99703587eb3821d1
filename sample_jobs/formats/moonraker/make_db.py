"""Write moonraker-sql.db: three jobs in Moonraker's job_history schema (synthetic data).

Run from this folder: ``uv run python make_db.py``; then regenerate the golden with
``uv run python -m printharvest.testing golden sample_jobs/formats/moonraker/moonraker-sql.db``
(the file's bytes, and so its sha256, can differ between SQLite versions).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE job_history (
    job_id INTEGER PRIMARY KEY ASC,
    user TEXT NOT NULL,
    filename TEXT,
    status TEXT NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    print_duration REAL NOT NULL,
    total_duration REAL NOT NULL,
    filament_used REAL NOT NULL,
    metadata pyjson,
    auxiliary_data pyjson NOT NULL,
    instance_id TEXT NOT NULL
);
CREATE TABLE job_totals (
    provider TEXT NOT NULL,
    field TEXT NOT NULL,
    maximum REAL,
    total REAL,
    instance_id TEXT NOT NULL,
    PRIMARY KEY (provider, field)
);
"""

PETG = {"size": 4523190, "modified": 1763500000.1, "uuid": "b2d0e9f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        "slicer": "PrusaSlicer", "slicer_version": "2.8.1", "gcode_start_byte": 23456,
        "gcode_end_byte": 4501234, "layer_count": 320, "object_height": 64.0,
        "estimated_time": 14235, "nozzle_diameter": 0.4, "layer_height": 0.2,
        "first_layer_height": 0.2, "first_layer_extr_temp": 240.0, "first_layer_bed_temp": 80.0,
        "filament_name": "Prusament PETG", "filament_type": "PETG", "filament_total": 18320.5,
        "filament_weight_total": 56.3, "thumbnails": []}
PLA = {"size": 812345, "slicer": "OrcaSlicer", "slicer_version": "2.2.0", "layer_height": 0.16,
       "estimated_time": 3600, "filament_type": "PLA", "filament_name": "Generic PLA",
       "filament_total": 2100.0, "filament_weight_total": 6.3}
JOBS = [
    (1, "No User", "case12/ribcage_segment.gcode", "completed", 1763500100.0, 1763514700.0,
     14201.3, 14600.0, 18290.1, json.dumps(PETG), "[]", "default"),
    (2, "No User", "calib/cube.gcode", "cancelled", 1763520000.0, 1763520900.0, 700.0, 900.0,
     410.2, json.dumps(PLA), "[]", "default"),
    (3, "No User", "case13/wrist.gcode", "in_progress", 1763530000.0, None, 1200.0, 1300.0,
     600.0, json.dumps(PLA), "[]", "default"),
]


def main() -> None:
    target = Path(__file__).with_name("moonraker-sql.db")
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(target)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO job_history VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", JOBS)
    conn.executemany("INSERT INTO job_totals VALUES (?,?,?,?,?)", [
        ("history", "total_jobs", None, 3, "default"),
        ("history", "total_filament_used", None, 19300.3, "default")])
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main()
