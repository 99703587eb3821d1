"""Regenerate the mesh format samples (shapes with known figures; no patient data).

Run from the repository root:  uv run python sample_jobs/formats/mesh/make_mesh_samples.py

The shapes and writers are the test suite's (tests/support/meshgen.py). The PrusaSlicer 3MF is
written by Debian's ``prusa-slicer`` (``--export-3mf --split --duplicate 2``) when it is
on PATH. Regenerate the goldens afterwards with ``python -m printharvest.testing golden``.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.support.meshgen import (  # noqa: E402
    box,
    mesh_xml,
    model_xml,
    ring,
    transform,
    translate,
    union,
    write_3mf,
    write_ascii_stl,
    write_glb,
    write_obj,
    write_off,
    write_ply,
    write_stl,
)

TWO_BODIES = union(box((0, 0, 0), (20, 20, 10)), translate(ring(16, 4.0, 8.0, 6.0), (40, 0, 0)))


def main() -> None:
    """Write every sample into this folder."""
    write_stl(HERE / "two_bodies.stl", TWO_BODIES)
    write_ascii_stl(HERE / "cube_ascii.stl", box((0, 0, 0), (10, 10, 10)), name="cube")
    v, f = box((0, 0, 0), (30, 20, 10))
    write_stl(HERE / "open_box.stl", (v, f[2:]))
    write_obj(HERE / "two_bodies.obj", TWO_BODIES)
    write_ply(HERE / "ring_binary.ply", ring(16, 4.0, 8.0, 6.0))
    write_ply(HERE / "ring_ascii.ply", ring(16, 4.0, 8.0, 6.0), "ascii")
    tetra = (np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], float),
             np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]))
    write_off(HERE / "tetrahedron.off", tetra)
    s = math.sqrt(0.5)
    cube_m = box((0, 0, 0), (0.01, 0.01, 0.01))
    write_glb(HERE / "nodes.glb", [cube_m], [
        {"children": [1, 2], "translation": [0.1, 0, 0], "scale": [2, 2, 2]},
        {"mesh": 0},
        {"mesh": 0, "translation": [0.03, 0, 0], "rotation": [0, 0, s, s]},
        {"mesh": 0, "scale": [-1, 1, 1]},
    ], [0, 3])
    inch_cube = box((0, 0, 0), (1, 1, 1))
    shift = np.eye(4)
    shift[3, :3] = [2, 0, 0]
    mirror = np.diag([-1.0, 1, 1, 1])
    mirror[3, :3] = [-1, 0, 0]
    resources = (f'<object id="1" name="cube" type="model">{mesh_xml(inch_cube)}</object>'
                 '<object id="2" name="pair" type="model"><components><component objectid="1"/>'
                 f'<component objectid="1" transform="{transform(shift)}"/></components></object>')
    build = ('<item objectid="2"/><item objectid="1" '
             f'transform="{transform(mirror)}"/>')
    write_3mf(HERE / "instanced_inch.3mf", model_xml(resources, build, unit="inch"))
    if shutil.which("prusa-slicer"):
        with tempfile.TemporaryDirectory() as tmp:
            stl = write_stl(Path(tmp) / "two_bodies.stl", TWO_BODIES)
            subprocess.run(["prusa-slicer", "--export-3mf", "--split", "--duplicate", "2",
                            "-o", str(HERE / "prusaslicer_split_duplicate.3mf"), str(stl)],
                           check=True, capture_output=True)
    exporter_samples()


EXPORTER_OFF = b"""  # OFF as some exporters write it: comment lines and blank lines first,
# and the vertex count glued to the keyword.

OFF8 6 12
0 0 0
20 0 0
20 10 0
0 10 0
0 0 5
20 0 5
20 10 5
0 10 5
4 0 3 2 1
4 4 5 6 7
4 0 1 5 4
4 1 2 6 5
4 2 3 7 6
4 3 0 4 7
"""

EXPORTER_OBJ = b"""# Exported by a CAD package (format facts: Wavefront OBJ, Appendix B1)
mtllib parts.mtl
o plate
g plate_shell
s 1
usemtl bone
v 0 0 0
v 20 0 0
v 20 10 0
v 0 10 0
v 0 0 5
v 20 0 5
v 20 10 5
v 0 10 5
vt 0 0
vt 1 0
vp 0.5 0.5
vn 0 0 1
s off
f 1 4 3 \\
  2
f 5 6 7 8
f 1 2 6 5
f 2 3 \\
  7 6
f 3 4 8 7
l 1 2
f 4 1 5 8
g
"""


def exporter_samples() -> None:
    """Files as other exporters write them.

    ``openscad_two_shells.3mf``: Debian's ``openscad`` exports two separate cubes as one
    3MF object holding two shells (when openscad is on PATH). The OFF and OBJ are written
    from the format facts (no tool here writes these variants): see the README.
    """
    (HERE / "exporter_glued.off").write_bytes(EXPORTER_OFF)
    (HERE / "exporter_groups.obj").write_bytes(EXPORTER_OBJ)
    if shutil.which("openscad"):
        with tempfile.TemporaryDirectory() as tmp:
            scad = Path(tmp) / "two.scad"
            scad.write_text("cube(10);\ntranslate([20, 0, 0]) cube(5);\n")
            subprocess.run(["openscad", "-o", str(HERE / "openscad_two_shells.3mf"),
                            str(scad)], check=True, capture_output=True)


if __name__ == "__main__":
    main()
