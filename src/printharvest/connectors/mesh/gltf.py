"""glTF 2.0, binary (``.glb``) and JSON (``.gltf`` with embedded or sibling buffers).

glTF is in metres: every mesh instance is placed by its node's world transform (matrix,
or translation / rotation / scale, parents first) and then scaled to millimetres. Parts
are the connected components of all placed triangles after coincident vertices merge,
as for STL. Triangle lists, strips and fans are read; points and lines are not surfaces.
Compressed geometry (Draco, meshopt) is refused with a clear reason.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import numpy as np

from printharvest.connectors.mesh.base import (
    MAX_MESH_BYTES,
    MAX_TRIANGLES,
    MeshConnector,
    fail,
    guarded,
)
from printharvest.connectors.mesh.geometry import MeshFigures, split_bodies
from printharvest.connectors.probe import FileProbe

GLB_MAGIC = b"glTF"
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
M_TO_MM = 1000.0
_COMPONENTS = {5120: "i1", 5121: "u1", 5122: "i2", 5123: "u2", 5125: "u4", 5126: "f4"}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_UNSUPPORTED = ("KHR_draco_mesh_compression", "EXT_meshopt_compression")
MAX_NODES = 100_000


class GltfConnector(MeshConnector):
    """glTF 2.0 and GLB meshes (metres, converted to millimetres)."""

    id = "gltf"
    label = "glTF / GLB mesh"
    version = "1.0"
    patterns = ("*.glb", "*.gltf")

    def detect(self, probe: FileProbe) -> float:
        """The GLB magic, or a JSON object with an ``asset`` for ``.gltf``."""
        if probe.head[:4] == GLB_MAGIC:
            return 0.9
        head = probe.head[:4096].lstrip()
        if head[:1] == b"{" and b'"asset"' in probe.head:
            return 0.85 if probe.matches(self.patterns) else 0.4
        return 0.0

    def figures(self, probe: FileProbe) -> MeshFigures:
        """Place every mesh instance in world space, in millimetres."""
        data = probe.read_all(MAX_MESH_BYTES)
        if data[:4] == GLB_MAGIC:
            doc, binary = _split_glb(probe, data)
        else:
            doc, binary = _json(probe, data), None
        if not isinstance(doc, dict):
            raise fail(probe, "glTF JSON is not an object")
        scene = Scene(probe, doc, binary)
        vertices, faces = guarded(probe, "glTF structure is inconsistent", scene.triangles)
        return split_bodies(vertices * M_TO_MM, faces)


def _json(probe: FileProbe, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise fail(probe, "glTF JSON cannot be read") from exc


def _split_glb(probe: FileProbe, data: bytes) -> tuple[Any, bytes | None]:
    if len(data) < 20:
        raise fail(probe, "GLB too short for its header")
    _, version, length = struct.unpack_from("<4sII", data, 0)
    if version != 2:
        raise fail(probe, f"GLB version {version} is not supported (only 2)")
    if length > len(data):
        raise fail(probe, f"GLB truncated: header says {length} bytes, file has {len(data)}")
    pos = 12
    doc: Any = None
    binary: bytes | None = None
    while pos + 8 <= length:
        size, kind = struct.unpack_from("<II", data, pos)
        chunk = data[pos + 8:pos + 8 + size]
        if len(chunk) < size:
            raise fail(probe, "GLB chunk runs past the end of the file")
        if kind == JSON_CHUNK and doc is None:
            doc = _json(probe, chunk)
        elif kind == BIN_CHUNK and binary is None:
            binary = chunk
        pos += 8 + size + (-size % 4)
    if doc is None:
        raise fail(probe, "GLB has no JSON chunk")
    return doc, binary


class Scene:
    """A glTF document's buffers, accessors and node tree."""

    def __init__(self, probe: FileProbe, doc: dict[str, Any], binary: bytes | None) -> None:
        self.probe = probe
        self.doc = doc
        self.binary = binary
        self.buffers: dict[int, bytes] = {}
        required = set(doc.get("extensionsRequired", []))
        for name in _UNSUPPORTED:
            if name in required:
                raise fail(probe, f"glTF geometry is compressed with {name}: not supported")

    def triangles(self) -> tuple[np.ndarray, np.ndarray]:
        """All placed triangles: world vertices (metres) and faces."""
        verts: list[np.ndarray] = []
        faces: list[np.ndarray] = []
        offset = 0
        total = 0
        for mesh_index, matrix in self._instances():
            for prim in self.doc["meshes"][mesh_index].get("primitives", []):
                placed = self._primitive(prim, matrix)
                if placed is None:
                    continue
                v, f = placed
                total += len(f)
                if total > MAX_TRIANGLES:
                    raise fail(self.probe, f"glTF places more than {MAX_TRIANGLES} triangles")
                verts.append(v)
                faces.append(f + offset)
                offset += len(v)
        if not faces:
            raise fail(self.probe, "glTF has no triangle meshes")
        return np.concatenate(verts), np.concatenate(faces)

    def _instances(self) -> list[tuple[int, np.ndarray]]:
        nodes = self.doc.get("nodes", [])
        if not nodes:
            return [(i, np.eye(4)) for i in range(len(self.doc.get("meshes", [])))]
        scenes = self.doc.get("scenes", [])
        if scenes:
            roots = scenes[int(self.doc.get("scene", 0))].get("nodes", [])
        else:
            children = {c for n in nodes for c in n.get("children", [])}
            roots = [i for i in range(len(nodes)) if i not in children]
        found: list[tuple[int, np.ndarray]] = []
        stack = [(int(r), np.eye(4), 0) for r in roots]
        visits = 0
        while stack:
            index, parent, depth = stack.pop()
            visits += 1
            if visits > MAX_NODES or depth > 64:
                raise fail(self.probe, "glTF node tree is too deep or cyclic")
            node = nodes[index]
            world = parent @ _local(node)
            if "mesh" in node:
                found.append((int(node["mesh"]), world))
            stack.extend((int(c), world, depth + 1) for c in reversed(node.get("children", [])))
        return found

    def _primitive(
        self, prim: dict[str, Any], matrix: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        mode = prim.get("mode", 4)
        if mode not in (4, 5, 6):
            return None
        position = self._accessor(prim["attributes"]["POSITION"])
        if position.ndim != 2 or position.shape[1] != 3:
            raise fail(self.probe, "glTF POSITION is not VEC3")
        if "indices" in prim:
            index = self._accessor(prim["indices"]).astype(np.int64).ravel()
        else:
            index = np.arange(len(position), dtype=np.int64)
        faces = _assemble(index, mode)
        world = position.astype(np.float64) @ matrix[:3, :3].T + matrix[:3, 3]
        if np.linalg.det(matrix[:3, :3]) < 0:
            faces = faces[:, ::-1]  # a mirroring node flips the winding back
        return world, np.ascontiguousarray(faces)

    def _accessor(self, index: int) -> np.ndarray:
        acc = self.doc["accessors"][index]
        if "sparse" in acc:
            raise fail(self.probe, "glTF sparse accessors are not supported")
        kind = _COMPONENTS[acc["componentType"]]
        width = _WIDTH[acc["type"]]
        count = int(acc["count"])
        if not 0 <= count <= 3 * MAX_TRIANGLES:
            raise fail(self.probe, f"glTF accessor count {count} is not plausible")
        if "bufferView" not in acc:
            return np.zeros((count, width), kind)
        view = self.doc["bufferViews"][acc["bufferView"]]
        data = self._buffer(int(view["buffer"]))
        start = int(view.get("byteOffset", 0)) + int(acc.get("byteOffset", 0))
        item = np.dtype("<" + kind).itemsize * width
        stride = int(view.get("byteStride", 0)) or item
        end = start + stride * (count - 1) + item if count else start
        view_end = int(view.get("byteOffset", 0)) + int(view["byteLength"])
        if end > view_end or view_end > len(data):
            raise fail(self.probe, "glTF accessor runs past its buffer")
        dtype = np.dtype({"names": ["v"], "formats": [("<" + kind, (width,))],
                          "offsets": [0], "itemsize": stride})
        table = np.frombuffer(data, dtype=dtype, count=count, offset=start)
        out: np.ndarray = np.ascontiguousarray(table["v"])
        if acc.get("normalized"):
            raise fail(self.probe, "glTF quantized (normalized) positions are not supported")
        return out if width > 1 else out.ravel()

    def _buffer(self, index: int) -> bytes:
        if index in self.buffers:
            return self.buffers[index]
        spec = self.doc["buffers"][index]
        uri = spec.get("uri")
        if uri is None:
            if self.binary is None:
                raise fail(self.probe, "glTF buffer has no data")
            data = self.binary
        elif uri.startswith("data:"):
            data = base64.b64decode(uri.split(",", 1)[1])
        else:
            data = self._sibling(uri)
        if len(data) < int(spec.get("byteLength", 0)):
            raise fail(self.probe, "glTF buffer is shorter than declared (truncated)")
        self.buffers[index] = data
        return data

    def _sibling(self, uri: str) -> bytes:
        """A buffer file beside the .gltf; nothing outside its folder is ever read."""
        name = PurePosixPath(unquote(uri))
        if ":" in uri or name.is_absolute() or ".." in name.parts:
            raise fail(self.probe, "glTF buffer points outside the model's folder")
        path = Path(self.probe.path).parent.joinpath(*name.parts)
        try:
            if path.stat().st_size > MAX_MESH_BYTES:
                raise fail(self.probe, "glTF buffer file is too large")
            return path.read_bytes()
        except OSError as exc:
            raise fail(self.probe, f"glTF buffer file {name.name} cannot be read") from exc


def _assemble(index: np.ndarray, mode: int) -> np.ndarray:
    if mode == 4:
        return index[: len(index) // 3 * 3].reshape(-1, 3)
    if len(index) < 3:
        return np.zeros((0, 3), np.int64)
    if mode == 5:  # strip: every other triangle reversed to keep the winding
        tri = np.stack([index[:-2], index[1:-1], index[2:]], axis=1)
        tri[1::2] = tri[1::2][:, [1, 0, 2]]
        return tri
    return np.stack([np.full(len(index) - 2, index[0]), index[1:-1], index[2:]], axis=1)


def _local(node: dict[str, Any]) -> np.ndarray:
    if "matrix" in node:
        return np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major
    t = np.array(node.get("translation", [0, 0, 0]), dtype=np.float64)
    x, y, z, w = (float(v) for v in node.get("rotation", [0, 0, 0, 1]))
    s = np.array(node.get("scale", [1, 1, 1]), dtype=np.float64)
    rot = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    out = np.eye(4)
    out[:3, :3] = rot * s  # R @ diag(S)
    out[:3, 3] = t
    return out
