"""Regenerate the sample jobs: synthetic anatomy-like meshes sliced by the real PrusaSlicer.

Run from the repository root:  uv run python sample_jobs/make_samples.py

Needs Debian's ``prusa-slicer`` on PATH. The meshes are simple analytic shapes (no patient
data); the G-code is genuine PrusaSlicer output, so the connector is checked against what
the slicer really writes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import trimesh

HERE = Path(__file__).resolve().parent / "cases"

PRINTER_INI = """\
printer_model = {printer_model}
printer_settings_id = Original Prusa {printer_model} 0.4 nozzle
bed_shape = 0x0,250x0,250x210,0x210
max_print_height = 220
nozzle_diameter = 0.4
filament_type = {filament_type}
filament_settings_id = "{filament_name}"
filament_density = {density}
filament_diameter = 1.75
layer_height = {layer_height}
first_layer_height = 0.2
fill_density = 15%
perimeters = 2
support_material = 0
"""


def kidney_with_tumour() -> trimesh.Trimesh:
    """A kidney-like ellipsoid and a separate small sphere: two bodies, watertight."""
    kidney = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    kidney.apply_scale([30.0, 18.0, 14.0])
    tumour = trimesh.creation.icosphere(subdivisions=3, radius=8.0)
    tumour.apply_translation([0.0, 0.0, 30.0])
    mesh = trimesh.util.concatenate([kidney, tumour])
    mesh.apply_translation(-mesh.bounds[0])
    return mesh


def mandible_guide() -> trimesh.Trimesh:
    """A ring-shaped guide body: one watertight torus."""
    guide = trimesh.creation.torus(major_radius=25.0, minor_radius=5.0,
                                   major_sections=64, minor_sections=24)
    guide.apply_translation(-guide.bounds[0])
    return guide


JOBS = [
    {
        "folder": "3DP-2026-001_kidney",
        "mesh": "kidney_tumour.stl",
        "make": kidney_with_tumour,
        "printer_model": "MK4S",
        "filament_type": "PLA",
        "filament_name": "Prusament PLA",
        "density": 1.24,
        "layer_height": 0.2,
    },
    {
        "folder": "3DP-2026-002_mandible",
        "mesh": "mandible_guide.stl",
        "make": mandible_guide,
        "printer_model": "MK3S",
        "filament_type": "PETG",
        "filament_name": "Prusament PETG",
        "density": 1.27,
        "layer_height": 0.15,
    },
]


def main() -> int:
    slicer = shutil.which("prusa-slicer")
    if slicer is None:
        print("prusa-slicer is not installed (apt-get install prusa-slicer)", file=sys.stderr)
        return 1
    for job in JOBS:
        folder = HERE / str(job["folder"])
        folder.mkdir(exist_ok=True)
        mesh_path = folder / str(job["mesh"])
        mesh = job["make"]()  # type: ignore[operator]
        assert mesh.is_watertight
        mesh.export(mesh_path)
        with tempfile.TemporaryDirectory() as tmp:
            ini = Path(tmp) / "profile.ini"
            ini.write_text(PRINTER_INI.format(**job), encoding="utf-8")
            gcode = mesh_path.with_suffix(".gcode")
            subprocess.run(
                [slicer, "--export-gcode", "--load", str(ini), "--center", "125,105",
                 "-o", str(gcode), str(mesh_path)],
                check=True, capture_output=True,
            )
        print(f"wrote {mesh_path.relative_to(HERE)} and {gcode.relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
