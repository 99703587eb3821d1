"""Regenerate the G-code family samples under sample_jobs/formats/.

Run from the repository root:  uv run python sample_jobs/formats/make_gcode_samples.py

* prusaslicer/: sliced for real by Debian's ``prusa-slicer``.
* cura/ and ufp/: sliced for real by Debian's ``CuraEngine`` with the ``fdmprinter``
  definition from Debian's ``cura`` package (``apt-get download cura`` and ``dpkg-deb -x``
  it, then pass ``--cura-definitions DIR``). CuraEngine alone writes a placeholder header
  (``;TIME:6666``) and reports the real one on its log; the Cura front end puts that real
  header in the file, and so does this script. The UFP packs the Griffin G-code with a
  material profile the way Cura's UFP writer lays it out.
* Every other family is written from the format facts (see each folder's README): the
  slicer is not available here.

The slicers stamp the date into their output (and zips their member times), so after a
regeneration refresh the goldens too:
``uv run python -m printharvest.testing golden sample_jobs/formats/*/*.*``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import trimesh

HERE = Path(__file__).resolve().parent
PRUSA_INI = """\
printer_model = MK3S
printer_settings_id = Original Prusa i3 MK3S 0.4 nozzle
bed_shape = 0x0,250x0,250x210,0x210
nozzle_diameter = 0.4
filament_type = PETG
filament_settings_id = "Prusament PETG"
filament_density = 1.27
filament_diameter = 1.75
layer_height = 0.15
first_layer_height = 0.2
fill_density = 15%
perimeters = 2
"""
MMU_INI = """\
printer_model = MK3S
printer_settings_id = Original Prusa i3 MK3S MMU2S
bed_shape = 0x0,250x0,250x210,0x210
nozzle_diameter = 0.4,0.4
single_extruder_multi_material = 1
use_relative_e_distances = 1
wipe_tower = 1
filament_type = PETG;PLA
filament_settings_id = "Prusament PETG";"Prusament PLA"
filament_density = 1.27,1.24
filament_diameter = 1.75,1.75
layer_height = 0.2
first_layer_height = 0.2
fill_density = 15%
perimeters = 2
perimeter_extruder = 2
infill_extruder = 2
solid_infill_extruder = 2
"""
TOOLCHANGER_INI = """\
printer_model = XL3
printer_settings_id = Original Prusa XL - 3T 0.4 nozzle
bed_shape = 0x0,360x0,360x360,0x360
nozzle_diameter = 0.4,0.4,0.4
use_relative_e_distances = 1
filament_type = PETG;PVA;PLA
filament_soluble = 0,1,0
filament_settings_id = "Prusament PETG";"Generic PVA";"Prusament PLA"
filament_density = 1.27,1.23,1.24
filament_diameter = 1.75,1.75,1.75
layer_height = 0.2
first_layer_height = 0.2
fill_density = 15%
perimeters = 2
support_material = 1
support_material_auto = 1
support_material_extruder = 2
support_material_interface_extruder = 2
"""
PLA_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<fdmmaterial xmlns="http://www.ultimaker.com/material" version="1.3">
    <metadata>
        <name><brand>Generic</brand><material>PLA</material><color>Generic</color></name>
        <GUID>506c9f0d-e3aa-4bd4-b2d2-23e2425b1aa9</GUID>
        <version>25</version>
    </metadata>
    <properties><density>1.24</density><diameter>2.85</diameter></properties>
</fdmmaterial>
"""


def _write_gcode3mf(name: str, application: str, slice_info: str, plate: dict[str, Any],
                    settings: dict[str, Any], gcode: str) -> None:
    """A sliced .gcode.3mf as Bambu Studio and its forks write it (one plate)."""
    folder = HERE / "gcode3mf"
    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?>\n<Types/>\n')
        zf.writestr("3D/3dmodel.model", '<?xml version="1.0" encoding="UTF-8"?>\n<model unit='
                    '"millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/'
                    f'02"><metadata name="Application">{application}</metadata>'
                    "<resources/><build/></model>\n")
        zf.writestr("Metadata/slice_info.config", slice_info)
        zf.writestr("Metadata/plate_1.json", json.dumps(plate))
        zf.writestr("Metadata/project_settings.config", json.dumps(settings, indent=4))
        zf.writestr("Metadata/plate_1.gcode", gcode)
        zf.writestr("Metadata/plate_1.gcode.md5", "0" * 32)


def small_part() -> trimesh.Trimesh:
    """A 12 x 12 x 6 mm block: small G-code, quick to slice."""
    block = trimesh.creation.box([12.0, 12.0, 6.0])
    block.apply_translation(-block.bounds[0])
    return block


def post_and_cap() -> trimesh.Trimesh:
    """A 6 mm post under a 16 mm cap: the cap's overhang needs support."""
    post = trimesh.creation.box([6.0, 6.0, 8.0])
    post.apply_translation([0.0, 0.0, 4.0])
    cap = trimesh.creation.box([16.0, 16.0, 2.0])
    cap.apply_translation([0.0, 0.0, 9.0])
    mesh = trimesh.util.concatenate([post, cap])
    mesh.apply_translation(-mesh.bounds[0])
    return mesh


def slice_prusa(mesh: Path, ini_text: str, center: str, out: Path) -> None:
    """Slice ``mesh`` with the real PrusaSlicer and the given profile."""
    out.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp) / "p.ini"
        ini.write_text(ini_text, encoding="utf-8")
        subprocess.run(["prusa-slicer", "--export-gcode", "--load", str(ini), "--center",
                        center, "-o", str(out), str(mesh)], check=True, capture_output=True)


def prusaslicer(mesh: Path) -> None:
    """One material; an MMU print whose first slot is unused; a tool-changer print with
    PVA support and an unused third filament."""
    folder = HERE / "prusaslicer"
    slice_prusa(mesh, PRUSA_INI, "125,105", folder / "block_petg.gcode")
    slice_prusa(mesh, MMU_INI, "125,105", folder / "mmu_second_slot_only.gcode")
    with tempfile.TemporaryDirectory() as tmp:
        capped = Path(tmp) / "post_and_cap.stl"
        post_and_cap().export(capped)
        slice_prusa(capped, TOOLCHANGER_INI, "180,180", folder / "xl_pva_support.gcode")


def cura_engine(mesh: Path, definitions: Path, flavor: str, extra: list[str]) -> str:
    """Slice with the real CuraEngine; return the G-code with the front end's header."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.gcode"
        run = subprocess.run(
            ["CuraEngine", "slice", "-v", "-j", str(definitions / "fdmprinter.def.json"),
             "-s", f"machine_gcode_flavor={flavor}", "-s", "machine_width=200",
             "-s", "machine_depth=200", "-s", "infill_sparse_density=15", *extra,
             "-e0", "-l", str(mesh), "-s", "mesh_position_x=100", "-s", "mesh_position_y=100",
             "-o", str(out)], check=True, capture_output=True, text=True)
        log = run.stdout + run.stderr
        header = log.split("Gcode header after slicing:\n", 1)[1].split(
            "End of gcode header.", 1)[0]
        gcode = out.read_text(encoding="utf-8")
    if flavor == "Griffin":
        start = gcode.index(";START_OF_HEADER")
        end = gcode.index(";END_OF_HEADER") + len(";END_OF_HEADER\n")
        return gcode[:start] + header + gcode[end:]
    body = gcode.split(";Generated with", 1)
    return header + ";Generated with" + body[1]


def cura(mesh: Path, definitions: Path) -> None:
    """Marlin, Griffin and UltiGCode flavours, and a UFP around the Griffin one."""
    folder = HERE / "cura"
    folder.mkdir(exist_ok=True)
    marlin = cura_engine(mesh, definitions, "RepRap (Marlin/Sprinter)",
                         ["-s", "layer_height=0.2", "-s", "material_diameter=1.75",
                          "-s", "machine_name=Creality Ender-3"])
    (folder / "block_marlin.gcode").write_text(marlin, encoding="utf-8")
    griffin = cura_engine(mesh, definitions, "Griffin",
                          ["-s", "layer_height=0.15", "-s", "material_diameter=2.85",
                           "-s", "machine_name=Ultimaker S5",
                           "-s", "material_guid=506c9f0d-e3aa-4bd4-b2d2-23e2425b1aa9"])
    (folder / "block_griffin.gcode").write_text(griffin, encoding="utf-8")
    ulti = cura_engine(mesh, definitions, "UltiGCode",
                       ["-s", "layer_height=0.1", "-s", "material_diameter=2.85"])
    (folder / "block_ultigcode.gcode").write_text(ulti, encoding="utf-8")
    ufp_folder = HERE / "ufp"
    ufp_folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(ufp_folder / "block.ufp", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("/3D/model.gcode", griffin)
        zf.writestr("/Materials/generic_pla.xml.fdm_material", PLA_PROFILE)
        zf.writestr("/[Content_Types].xml",
                    '<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"><Default Extension="gcode"'
                    ' ContentType="text/x-gcode"/></Types>\n')


def bgcode() -> None:
    """A binary G-code built block by block from the libbgcode specification."""
    def block(kind: int, data: bytes, compression: int = 0, params: bytes = b"\0\0") -> bytes:
        stored = zlib.compress(data) if compression == 1 else data
        head = struct.pack("<HHI", kind, compression, len(data))
        if compression:
            head += struct.pack("<I", len(stored))
        body = head + params + stored
        return body + struct.pack("<I", zlib.crc32(body))

    file_meta = b"Producer=PrusaSlicer 2.7.1\n"
    printer_meta = (b"printer_model=MK4\nfilament_type=PLA\nnozzle_diameter=0.4\n"
                    b"layer_height=0.2\nfill_density=15%\n"
                    b'objects_info={"objects":[{"name":"block","polygon":[[0,0],[12,0],[12,12]]},'
                    b'{"name":"block","polygon":[[20,0],[32,0],[32,12]]}]}\n'
                    b"filament used [mm]=812.40\nfilament used [g]=2.42\n"
                    b"estimated printing time (normal mode)=14m 5s\n")
    print_meta = (b"filament used [mm]=812.40\nfilament used [cm3]=1.95\n"
                  b"filament used [g]=2.42\ntotal filament used [g]=2.42\n"
                  b"estimated printing time (normal mode)=14m 5s\n")
    slicer_meta = b"layer_height=0.2\nfilament_type=PLA\nfilament_settings_id=\"Prusament PLA\"\n"
    gcode = b"G28\nG1 Z0.2 F720\nG1 X10 Y10 E1.0\nM84\n"
    data = (struct.pack("<4sIH", b"GCDE", 1, 1) + block(0, file_meta)
            + block(3, printer_meta) + block(4, print_meta, 1) + block(2, slicer_meta, 1)
            + block(1, gcode, 0, b"\0\0"))
    folder = HERE / "bgcode"
    folder.mkdir(exist_ok=True)
    (folder / "two_blocks.bgcode").write_bytes(data)


def gcode_3mf() -> None:
    """A Bambu Studio sliced 3MF written from the format facts (one plate, two filaments
    loaded, one used)."""
    slice_info = """<?xml version="1.0" encoding="UTF-8"?>
<config>
  <header>
    <header_item key="X-BBL-Client-Type" value="slicer"/>
    <header_item key="X-BBL-Client-Version" value="01.09.07.52"/>
  </header>
  <plate>
    <metadata key="index" value="1"/>
    <metadata key="printer_model_id" value="C12"/>
    <metadata key="nozzle_diameters" value="0.4"/>
    <metadata key="prediction" value="2718"/>
    <metadata key="weight" value="7.41"/>
    <metadata key="outside" value="false"/>
    <metadata key="support_used" value="false"/>
    <object identify_id="77" name="block" skipped="false"/>
    <object identify_id="91" name="block" skipped="false"/>
    <object identify_id="105" name="ring" skipped="false"/>
    <filament id="1" tray_info_idx="GFA00" type="PLA" color="#FFFFFF" used_m="2.46" used_g="7.41"/>
  </plate>
</config>
"""
    plate = {"bbox_objects": [{"name": "block", "layer_height": 0.2, "id": 77},
                              {"name": "block", "layer_height": 0.2, "id": 91},
                              {"name": "ring", "layer_height": 0.2, "id": 105}],
             "filament_ids": [0], "nozzle_diameter": 0.4, "version": 2}
    settings = {"printer_model": "Bambu Lab P1S", "layer_height": "0.2",
                "filament_settings_id": ["Bambu PLA Basic @BBL P1S", "Bambu PETG HF @BBL P1S"],
                "filament_type": ["PLA", "PETG"]}
    gcode = ("; HEADER_BLOCK_START\n; BambuStudio 01.09.07.52\n"
             "; model printing time: 41m 2s; total estimated time: 45m 18s\n"
             "; total layer number: 30\n; HEADER_BLOCK_END\n\n"
             "; CONFIG_BLOCK_START\n; layer_height = 0.2\n; CONFIG_BLOCK_END\nG28\nM84\n")
    _write_gcode3mf("plate.gcode.3mf", "BambuStudio-01.09.07.52", slice_info, plate, settings,
                    gcode)


def gcode3mf_fine() -> None:
    """A fine-layer Orca-fork plate: 0.12 mm layers over a 0.2 mm first layer.

    The plate JSON's ``bbox_objects`` carry the first layer's height (they describe the
    first-layer boxes), the config block and project settings the print's layer height; the
    G-code names a multi-word fork (``Snapmaker Orca``) with two filaments, as
    ``filament_type`` lists them.
    """
    slice_info = """<?xml version="1.0" encoding="UTF-8"?>
<config>
  <header>
    <header_item key="X-BBL-Client-Type" value="slicer"/>
    <header_item key="X-BBL-Client-Version" value="02.01.01.52"/>
  </header>
  <plate>
    <metadata key="index" value="1"/>
    <metadata key="prediction" value="5402"/>
    <metadata key="weight" value="12.80"/>
    <object identify_id="12" name="part" skipped="false"/>
    <filament id="1" type="PLA" color="#FFFFFF" used_m="3.10" used_g="9.30"/>
    <filament id="2" type="PETG" color="#000000" used_m="1.12" used_g="3.50"/>
  </plate>
</config>
"""
    plate = {"bbox_objects": [{"name": "part", "layer_height": 0.2, "id": 12,
                               "area": 412.5, "bbox": [90.0, 95.0, 130.0, 125.0]}],
             "filament_ids": [0, 1], "first_extruder": 0, "nozzle_diameter": 0.4,
             "version": 2}
    settings = {"printer_model": "Snapmaker U1", "layer_height": "0.12",
                "initial_layer_print_height": "0.2",
                "filament_settings_id": ["Snapmaker PLA", "Snapmaker PETG"],
                "filament_type": ["PLA", "PETG"]}
    gcode = ("; HEADER_BLOCK_START\n; generated by Snapmaker Orca 2.1.0 on 2025-09-14 at "
             "10:12:40\n; total layer number: 180\n; HEADER_BLOCK_END\n\n"
             "; CONFIG_BLOCK_START\n; initial_layer_print_height = 0.2\n"
             "; layer_height = 0.12\n; CONFIG_BLOCK_END\nG28\nM84\n")
    _write_gcode3mf("fine_orca_fork.gcode.3mf", "Snapmaker Orca-2.1.0", slice_info, plate,
                    settings, gcode)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cura-definitions", type=Path,
                        default=Path("/usr/share/cura/resources/definitions"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mesh = Path(tmp) / "block.stl"
        small_part().export(mesh)
        if shutil.which("prusa-slicer"):
            prusaslicer(mesh)
        else:
            print("prusa-slicer not found: prusaslicer/ not regenerated", file=sys.stderr)
        if shutil.which("CuraEngine") and (args.cura_definitions / "fdmprinter.def.json").is_file():
            cura(mesh, args.cura_definitions)
        else:
            print("CuraEngine or its definitions not found: cura/ and ufp/ not regenerated",
                  file=sys.stderr)
    bgcode()
    gcode_3mf()
    gcode3mf_fine()
    return 0


if __name__ == "__main__":
    sys.exit(main())
