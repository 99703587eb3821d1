"""Meshes with known figures, and writers for every mesh format the connectors read.

Shapes are (vertices float64 (N, 3), faces int (F, 3)) wound outwards (counter-clockwise
seen from outside), so their signed volume is positive.
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
from pathlib import Path

import numpy as np

Mesh = tuple[np.ndarray, np.ndarray]

BOX_FACES = np.array([
    [0, 2, 1], [1, 2, 3],  # z = lo
    [4, 5, 6], [5, 7, 6],  # z = hi
    [0, 1, 4], [1, 5, 4],  # y = lo
    [2, 6, 3], [3, 6, 7],  # y = hi
    [0, 4, 2], [2, 4, 6],  # x = lo
    [1, 3, 5], [3, 7, 5],  # x = hi
])


def box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> Mesh:
    """An axis-aligned box; corner i has x from bit 0, y from bit 1, z from bit 2."""
    corners = np.array([[(hi if (i >> k) & 1 else lo)[k] for k in range(3)] for i in range(8)],
                       dtype=np.float64)
    return corners, BOX_FACES.copy()


def icosahedron(edge: float = 1.0) -> Mesh:
    """A regular icosahedron with the given edge length, centred on the origin."""
    phi = (1 + math.sqrt(5)) / 2
    v = np.array([
        [-1, phi, 0], [1, phi, 0], [-1, -phi, 0], [1, -phi, 0],
        [0, -1, phi], [0, 1, phi], [0, -1, -phi], [0, 1, -phi],
        [phi, 0, -1], [phi, 0, 1], [-phi, 0, -1], [-phi, 0, 1],
    ], dtype=np.float64) * (edge / 2)
    f = np.array([
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ])
    return v, f


def icosphere(subdivisions: int, radius: float = 1.0) -> Mesh:
    """An icosahedron subdivided and pushed onto the sphere (shared vertices)."""
    v, f = icosahedron()
    verts = [tuple(p) for p in v / np.linalg.norm(v, axis=1)[:, None]]
    faces = [tuple(t) for t in f]
    for _ in range(subdivisions):
        cache: dict[tuple[int, int], int] = {}

        def mid(a: int, b: int, cache: dict[tuple[int, int], int] = cache) -> int:
            key = (min(a, b), max(a, b))
            if key not in cache:
                p = (np.array(verts[a]) + np.array(verts[b])) / 2
                verts.append(tuple(p / np.linalg.norm(p)))
                cache[key] = len(verts) - 1
            return cache[key]

        new = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new
    return np.array(verts) * radius, np.array(faces)


def ring(n: int, inner: float, outer: float, height: float) -> Mesh:
    """A torus of genus 1: a prism over the region between two regular n-gons.

    Volume = height * n/2 * sin(2 pi / n) * (outer^2 - inner^2).
    """
    angles = 2 * math.pi * np.arange(n) / n
    c, s = np.cos(angles), np.sin(angles)
    verts = []
    for r, z in ((outer, 0.0), (outer, height), (inner, 0.0), (inner, height)):
        verts.append(np.stack([r * c, r * s, np.full(n, z)], axis=1))
    v = np.concatenate(verts)
    ob, ot, ib, it = 0, n, 2 * n, 3 * n
    faces = []
    for i in range(n):
        j = (i + 1) % n
        faces += [(ob + i, ob + j, ot + j), (ob + i, ot + j, ot + i)]  # outer wall
        faces += [(ib + i, it + j, ib + j), (ib + i, it + i, it + j)]  # inner wall
        faces += [(ot + i, ot + j, it + j), (ot + i, it + j, it + i)]  # top
        faces += [(ob + i, ib + j, ob + j), (ob + i, ib + i, ib + j)]  # bottom
    return v, np.array(faces)


def ring_volume(n: int, inner: float, outer: float, height: float) -> float:
    """The exact volume of :func:`ring`."""
    return height * n / 2 * math.sin(2 * math.pi / n) * (outer**2 - inner**2)


def polyhedron_volume(mesh: Mesh) -> float:
    """Signed volume as a sum of tetrahedra determinants (independent of the code tested)."""
    v, f = mesh
    return float(sum(np.linalg.det(v[t]) for t in f) / 6.0)


def translate(mesh: Mesh, offset: tuple[float, float, float]) -> Mesh:
    """The mesh moved by ``offset``."""
    return mesh[0] + np.array(offset), mesh[1]


def union(*meshes: Mesh) -> Mesh:
    """Several meshes in one vertex and face list (no vertices shared)."""
    verts, faces, offset = [], [], 0
    for v, f in meshes:
        verts.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(verts), np.concatenate(faces)


# -- writers -------------------------------------------------------------------------------


def write_stl(path: Path, mesh: Mesh, *, header: bytes = b"printharvest test") -> Path:
    """Binary STL."""
    v, f = mesh
    tri = v[f].astype(np.float32)
    records = np.zeros(len(f), dtype=[("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")])
    records["v"] = tri
    path.write_bytes(header.ljust(80, b" ")[:80] + struct.pack("<I", len(f)) + records.tobytes())
    return path


def write_ascii_stl(path: Path, mesh: Mesh, name: str = "part") -> Path:
    """ASCII STL."""
    v, f = mesh
    lines = [f"solid {name}"]
    for t in f:
        lines += ["  facet normal 0 0 0", "    outer loop"]
        lines += [f"      vertex {x:.9g} {y:.9g} {z:.9g}" for x, y, z in v[t]]
        lines += ["    endloop", "  endfacet"]
    lines.append(f"endsolid {name}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_obj(path: Path, mesh: Mesh, *, quads: bool = False) -> Path:
    """OBJ with ``v`` and ``f`` lines (1-based, ``v//vn`` style corners)."""
    v, f = mesh
    lines = ["# test", "o part"] + [f"v {x:.17g} {y:.17g} {z:.17g}" for x, y, z in v]
    lines += [f"f {a + 1}//1 {b + 1}//1 {c + 1}//1" for a, b, c in f]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_off(path: Path, mesh: Mesh) -> Path:
    """ASCII OFF."""
    v, f = mesh
    lines = ["OFF", "# comment", f"{len(v)} {len(f)} 0"]
    lines += [f"{x:.17g} {y:.17g} {z:.17g}" for x, y, z in v] + [f"3 {a} {b} {c}" for a, b, c in f]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_ply(path: Path, mesh: Mesh, fmt: str = "binary_little_endian") -> Path:
    """PLY (ascii or binary), with an extra vertex property and a trailing edge element."""
    v, f = mesh
    header = [
        "ply", f"format {fmt} 1.0", "comment test", f"element vertex {len(v)}",
        "property float x", "property float y", "property float z", "property uchar red",
        f"element face {len(f)}", "property list uchar int vertex_indices",
        "element edge 0", "property int vertex1", "property int vertex2", "end_header",
    ]
    head = ("\n".join(header) + "\n").encode()
    if fmt == "ascii":
        body = "".join(f"{x:.17g} {y:.17g} {z:.17g} 7\n" for x, y, z in v.astype(np.float32))
        body += "".join(f"3 {a} {b} {c}\n" for a, b, c in f)
        path.write_bytes(head + body.encode())
        return path
    order = "<" if fmt == "binary_little_endian" else ">"
    vt = np.zeros(len(v), dtype=[("x", order + "f4"), ("y", order + "f4"), ("z", order + "f4"),
                                 ("r", "u1")])
    vt["x"], vt["y"], vt["z"] = v[:, 0], v[:, 1], v[:, 2]
    ft = np.zeros(len(f), dtype=[("n", "u1"), ("i", order + "i4", (3,))])
    ft["n"], ft["i"] = 3, f
    path.write_bytes(head + vt.tobytes() + ft.tobytes())
    return path


def write_glb(path: Path, meshes: list[Mesh], nodes: list[dict[str, object]],
              scene_nodes: list[int]) -> Path:
    """A GLB with one glTF mesh per given mesh (vertices in metres) and the given nodes."""
    blob = b""
    views, accessors, gl_meshes = [], [], []
    for v, f in meshes:
        pos = v.astype("<f4").tobytes()
        idx = f.astype("<u4").tobytes()
        for data, target in ((pos, 34962), (idx, 34963)):
            views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": len(data),
                          "target": target})
            blob += data + b"\0" * (-len(data) % 4)
        accessors.append({"bufferView": len(views) - 2, "componentType": 5126,
                          "count": len(v), "type": "VEC3",
                          "min": v.min(axis=0).tolist(), "max": v.max(axis=0).tolist()})
        accessors.append({"bufferView": len(views) - 1, "componentType": 5125,
                          "count": f.size, "type": "SCALAR"})
        gl_meshes.append({"primitives": [{"attributes": {"POSITION": len(accessors) - 2},
                                          "indices": len(accessors) - 1}]})
    doc = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": scene_nodes}],
           "nodes": nodes, "meshes": gl_meshes, "accessors": accessors,
           "bufferViews": views, "buffers": [{"byteLength": len(blob)}]}
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    total = 12 + 8 + len(js) + 8 + len(blob)
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, total)
                     + struct.pack("<II", len(js), 0x4E4F534A) + js
                     + struct.pack("<II", len(blob), 0x004E4942) + blob)
    return path


CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
RELS = ('<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model"'
        ' Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>'
        '</Relationships>')
CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.'
                 'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                 'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="model" ContentType="application/vnd.ms-package.'
                 '3dmanufacturing-3dmodel+xml"/></Types>')


def mesh_xml(mesh: Mesh) -> str:
    """The ``<mesh>`` element of a 3MF object."""
    v, f = mesh
    verts = "".join(f'<vertex x="{x:.17g}" y="{y:.17g}" z="{z:.17g}"/>' for x, y, z in v)
    tris = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in f)
    return f"<mesh><vertices>{verts}</vertices><triangles>{tris}</triangles></mesh>"


def model_xml(resources: str, build: str, unit: str = "millimeter", metadata: str = "") -> str:
    """A whole 3MF model part."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<model unit="{unit}" xml:lang="en-US" '
            f'xmlns="{CORE_NS}">{metadata}<resources>{resources}</resources>'
            f"<build>{build}</build></model>")


def write_3mf(path: Path, model: str | bytes, extra: dict[str, str | bytes] | None = None) -> Path:
    """A 3MF package holding ``model`` as 3D/3dmodel.model."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("3D/3dmodel.model", model)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def transform(matrix: np.ndarray) -> str:
    """A 3MF transform attribute from a 4x4 row-vector matrix."""
    return " ".join(repr(float(x)) for x in matrix[:, :3].ravel())
