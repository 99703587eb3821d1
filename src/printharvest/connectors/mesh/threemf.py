"""3MF geometry: the model's unit, objects, components (expanded recursively, also across
model parts of the production extension) and build items with their transforms.

Every build item, with its components expanded, is one part placed in world space: an
object placed by two items, or referenced twice through components, counts twice. A
transform is 12 numbers ``m00 m01 m02 m10 m11 m12 m20 m21 m22 m30 m31 m32`` applied to row
vectors (``[x y z 1] @ M``); the unit attribute (micron, millimeter, centimeter, inch, foot,
meter) scales everything to millimetres: vertices by the unit of the model part that holds
them, translations by the unit of the part that holds the transform.

The XML is parsed with defusedxml with DTDs forbidden, so entity expansion and external
entities are refused; members are read with a size cap and a compression-ratio check, so
a zip bomb stops at once. Unsliced slicer projects (PrusaSlicer, Bambu Studio, Orca) also
give their material and layer height (:mod:`.threemf_settings`); a 3MF that carries sliced
G-code belongs to the G-code connectors, which score higher on it.
"""

from __future__ import annotations

import zipfile
import zlib
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import numpy as np

from printharvest.connectors.mesh.base import (
    MAX_MESH_BYTES,
    MeshConnector,
    fail,
    mesh_errors,
    mesh_record,
)
from printharvest.connectors.mesh.geometry import MeshFigures, combine, whole_body
from printharvest.connectors.mesh.threemf_model import ModelPart, ObjectDef, read_model_part
from printharvest.connectors.mesh.threemf_settings import project_fields
from printharvest.connectors.probe import FileProbe
from printharvest.connectors.zipped import MAX_RATIO
from printharvest.models import HarvestRecord

MODEL_REL = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
DEFAULT_MODEL = "3D/3dmodel.model"
MAX_PARTS = 10_000
MAX_DEPTH = 32
SLICED_HINTS = ("metadata/slice_info.config",)


class ThreeMfConnector(MeshConnector):
    """3MF models and unsliced slicer projects."""

    id = "threemf"
    label = "3MF model (geometry; unsliced PrusaSlicer/Bambu/Orca projects)"
    version = "1.0"
    patterns = ("*.3mf",)

    def detect(self, probe: FileProbe) -> float:
        """A zip holding a 3D model part; lower when it carries sliced G-code."""
        members = {m.lower() for m in probe.zip_members or ()}
        if not members:
            return 0.0
        if DEFAULT_MODEL.lower() not in members and not any(
            m.startswith("3d/") and m.endswith(".model") for m in members
        ):
            return 0.0
        sliced = any(m in SLICED_HINTS or (m.startswith("metadata/plate_") and m.endswith(".gcode"))
                     for m in members)
        return 0.5 if sliced else 0.9

    def figures(self, probe: FileProbe) -> MeshFigures:
        """Expand the build into world-space parts."""
        return self._read(probe)[0]

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One mesh record, with project settings where the 3MF carries them."""
        with mesh_errors(probe):
            figures, extra = self._read(probe)
        return [mesh_record(self, probe, figures, **extra)]

    def _read(self, probe: FileProbe) -> tuple[MeshFigures, dict[str, Any]]:
        try:
            archive = zipfile.ZipFile(probe.path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise fail(probe, f"not a readable 3MF zip ({type(exc).__name__})") from exc
        with archive:
            package = Package(probe, archive)
            root = package.root_model_path()
            builder = Builder(package)
            figures = builder.build(root)
            extra = project_fields(package.read_optional, builder.application)
        return figures, extra


class Package:
    """The zip with safe, capped member reads and XML parsing."""

    def __init__(self, probe: FileProbe, archive: zipfile.ZipFile) -> None:
        self.probe = probe
        self.archive = archive
        self.names = {info.filename.lstrip("/").lower(): info for info in archive.infolist()}
        self.budget = MAX_MESH_BYTES

    def read(self, name: str) -> bytes:
        """A member's bytes; refuses members that would expand past the limits."""
        info = self.names.get(name.lstrip("/").lower())
        if info is None:
            raise fail(self.probe, f"3MF part {name.lstrip('/')[:80]} is missing")
        if info.file_size > self.budget or (
            info.file_size > 1 << 20 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        ):
            raise fail(self.probe, "3MF member expands far beyond its size (zip bomb?)")
        try:
            with self.archive.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
                zlib.error) as exc:
            raise fail(self.probe, f"3MF part {info.filename} cannot be read "
                                   f"({type(exc).__name__})") from exc
        if len(data) > info.file_size:
            raise fail(self.probe, "3MF member is larger than its zip entry says")
        self.budget -= len(data)
        return data

    def read_optional(self, name: str) -> bytes | None:
        """A member's bytes, or None when it is absent."""
        if name.lower() not in self.names:
            return None
        return self.read(name)

    def xml(self, name: str) -> Element:
        """Parse a member as XML with DTDs (hence entities) refused."""
        import defusedxml  # type: ignore[import-untyped]
        import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]

        data = self.read(name)
        try:
            root: Element = SafeET.fromstring(data, forbid_dtd=True)
        except defusedxml.DefusedXmlException as exc:
            raise fail(self.probe, f"3MF part {name} declares a DTD or entities "
                                   "(refused as hostile XML)") from exc
        except ParseError as exc:
            line = exc.position[0] if exc.position else "?"
            raise fail(self.probe, f"3MF part {name} is not well-formed XML (line {line})") from exc
        return root

    def root_model_path(self) -> str:
        """The model part named by the package relationships (usually 3D/3dmodel.model)."""
        if "_rels/.rels" in self.names:
            rels = self.xml("_rels/.rels")
            for rel in rels:
                if rel.get("Type") == MODEL_REL and rel.get("Target"):
                    return str(rel.get("Target")).lstrip("/")
        if DEFAULT_MODEL.lower() in self.names:
            return DEFAULT_MODEL
        raise fail(self.probe, "3MF has no 3D model part")


class Builder:
    """Reads model parts on demand and expands the build into world-space meshes."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self.models: dict[str, ModelPart] = {}
        self.application: str | None = None
        self.triangles = 0
        self.warnings: list[str] = []
        self.root_path = ""

    def build(self, root_path: str) -> MeshFigures:
        """Every build item of the root model, components expanded, as parts."""
        probe = self.package.probe
        self.root_path = root_path
        root = self._model(root_path)
        self.application = root.application
        if not root.items:
            raise fail(probe, "3MF has no build items")
        pieces: list[MeshFigures] = []
        for path, object_id, matrix in root.items:
            for leaf, placed in self._expand(path, object_id, matrix, 0):
                pieces.append(self._place(leaf, placed))
        if not pieces:
            raise fail(probe, "3MF build places no mesh")
        figures = combine(pieces)
        figures.warnings.extend(w for w in self.warnings if w not in figures.warnings)
        return figures

    def _model(self, path: str) -> ModelPart:
        if path not in self.models:
            part = read_model_part(self.package.probe, self.package.read(path), path,
                                   is_root=path == self.root_path,
                                   triangles_before=self.triangles)
            self.triangles = part.triangles
            self.models[path] = part
        return self.models[path]

    def _expand(
        self, path: str, object_id: str, matrix: np.ndarray, depth: int
    ) -> list[tuple[ObjectDef, np.ndarray]]:
        probe = self.package.probe
        if depth > MAX_DEPTH:
            raise fail(probe, "3MF components nest too deeply (a cycle?)")
        obj = self._model(path).objects.get(object_id)
        if obj is None:
            raise fail(probe, f"3MF build refers to object {object_id[:20]} that does not exist")
        leaves: list[tuple[ObjectDef, np.ndarray]] = []
        if obj.kind in ("support", "other"):
            self.warnings.append(f"a 3MF object of type '{obj.kind}' is not counted as a part")
            return leaves
        if obj.triangles is not None and len(obj.triangles):
            leaves.append((obj, matrix))
        for target, child, local in obj.components:
            # A component's transform applies first, then its parent's (row vectors).
            leaves.extend(self._expand(target, child, local @ matrix, depth + 1))
            if len(leaves) > MAX_PARTS:
                raise fail(probe, f"3MF components expand to more than {MAX_PARTS} parts")
        return leaves

    def _place(self, obj: ObjectDef, matrix: np.ndarray) -> MeshFigures:
        # Vertices are in their own part's unit, translations were converted to mm where
        # they were read: every part may declare its own unit.
        assert obj.vertices is not None and obj.triangles is not None
        world = (obj.vertices * obj.unit_mm) @ matrix[:3, :3] + matrix[3, :3]
        mirrored = bool(np.linalg.det(matrix[:3, :3]) < 0)
        # An object made of several separate shells is several bodies (the contract's
        # part_count counts bodies), as an STL of the same shells would be.
        return whole_body(world, obj.triangles, name=obj.name, mirrored=mirrored, split=True)
