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

import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import numpy as np

from ..archive import MAX_RATIO
from ..geometry import MeshFigures, combine, whole_body
from ..models import HarvestRecord
from ..probe import FileProbe
from .meshbase import MAX_MESH_BYTES, MAX_TRIANGLES, MeshConnector, fail, mesh_errors, mesh_record
from .threemf_settings import project_fields

CORE = "{http://schemas.microsoft.com/3dmanufacturing/core/2015/02}"
PROD = "{http://schemas.microsoft.com/3dmanufacturing/production/2015/06}"
MODEL_REL = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
UNITS_MM = {
    "micron": 0.001, "millimeter": 1.0, "centimeter": 10.0,
    "inch": 25.4, "foot": 304.8, "meter": 1000.0,
}
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
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
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


@dataclass
class ObjectDef:
    """One ``<object>``: a mesh, or components referring to other objects."""

    name: str | None
    kind: str
    unit_mm: float
    vertices: np.ndarray | None = None
    triangles: np.ndarray | None = None
    components: list[tuple[str, str, np.ndarray]] = field(default_factory=list)


class Builder:
    """Reads model parts on demand and expands the build into world-space meshes."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self.models: dict[str, tuple[float, dict[str, ObjectDef]]] = {}
        self.application: str | None = None
        self.triangles = 0
        self.warnings: list[str] = []
        self.root_path = ""

    def build(self, root_path: str) -> MeshFigures:
        """Every build item of the root model, components expanded, as parts."""
        probe = self.package.probe
        self.root_path = root_path
        root = self.package.xml(root_path)
        if root.tag != CORE + "model":
            raise fail(probe, "3MF root part is not a 3MF core model")
        self._model(root_path, root)
        for meta in root.findall(CORE + "metadata"):
            if meta.get("name") == "Application" and meta.text:
                self.application = meta.text.strip()
        build = root.find(CORE + "build")
        items = [] if build is None else build.findall(CORE + "item")
        if not items:
            raise fail(probe, "3MF has no build items")
        pieces: list[MeshFigures] = []
        for item in items:
            path = _part_path(item.get(PROD + "path"), root_path)
            transform = _transform(probe, item.get("transform"), self._unit(root_path))
            for leaf, matrix in self._expand(path, str(item.get("objectid")), transform, 0):
                pieces.append(self._place(leaf, matrix))
        if not pieces:
            raise fail(probe, "3MF build places no mesh")
        figures = combine(pieces)
        figures.warnings.extend(w for w in self.warnings if w not in figures.warnings)
        return figures

    def _unit(self, path: str) -> float:
        return self.models[path][0]

    def _model(self, path: str, root: Element | None = None) -> tuple[float, dict[str, ObjectDef]]:
        if path in self.models:
            return self.models[path]
        probe = self.package.probe
        if root is None:
            root = self.package.xml(path)
        unit_name = root.get("unit", "millimeter")
        if unit_name not in UNITS_MM:
            raise fail(probe, f"3MF unit '{unit_name[:20]}' is not one the 3MF spec defines")
        objects: dict[str, ObjectDef] = {}
        self.models[path] = (UNITS_MM[unit_name], objects)
        resources = root.find(CORE + "resources")
        for obj in [] if resources is None else resources.findall(CORE + "object"):
            objects[str(obj.get("id"))] = self._object(path, obj)
        return self.models[path]

    def _object(self, path: str, obj: Element) -> ObjectDef:
        probe = self.package.probe
        unit_mm = self._unit(path)
        definition = ObjectDef(obj.get("name"), obj.get("type", "model"), unit_mm)
        mesh = obj.find(CORE + "mesh")
        if mesh is not None:
            vertices = mesh.find(CORE + "vertices")
            triangles = mesh.find(CORE + "triangles")
            try:
                definition.vertices = np.array(
                    [(v.get("x"), v.get("y"), v.get("z"))
                     for v in ([] if vertices is None else vertices)], dtype=np.float64
                ).reshape(-1, 3)
                definition.triangles = np.array(
                    [(t.get("v1"), t.get("v2"), t.get("v3"))
                     for t in ([] if triangles is None else triangles)], dtype=np.int64
                ).reshape(-1, 3)
            except (TypeError, ValueError) as exc:
                raise fail(probe, "3MF mesh has a vertex or triangle that cannot be read") from exc
            self.triangles += len(definition.triangles)
            if self.triangles > MAX_TRIANGLES:
                raise fail(probe, f"3MF holds more than {MAX_TRIANGLES} triangles")
        components = obj.find(CORE + "components")
        for comp in [] if components is None else components.findall(CORE + "component"):
            if comp.get(PROD + "path") and path != self.root_path:
                raise fail(probe, "3MF component in a non-root model part has a path "
                                  "(the production extension forbids it)")
            target = _part_path(comp.get(PROD + "path"), path)
            definition.components.append(
                (target, str(comp.get("objectid")),
                 _transform(probe, comp.get("transform"), unit_mm))
            )
        return definition

    def _expand(
        self, path: str, object_id: str, matrix: np.ndarray, depth: int
    ) -> list[tuple[ObjectDef, np.ndarray]]:
        probe = self.package.probe
        if depth > MAX_DEPTH:
            raise fail(probe, "3MF components nest too deeply (a cycle?)")
        _, objects = self._model(path)
        obj = objects.get(object_id)
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
        return whole_body(world, obj.triangles, name=obj.name, mirrored=mirrored)


def _part_path(attr: str | None, current: str) -> str:
    if not attr:
        return current
    return posixpath.normpath(attr.lstrip("/"))


def _transform(probe: FileProbe, text: str | None, unit_mm: float) -> np.ndarray:
    """A 4x4 row-vector matrix from the 12-number 3MF transform (identity when absent).

    The translation row is converted to millimetres with the unit of the part it is in.
    """
    matrix = np.eye(4)
    if not text:
        return matrix
    try:
        values = [float(v) for v in text.split()]
    except ValueError as exc:
        raise fail(probe, "3MF transform has a value that is not a number") from exc
    if len(values) != 12 or not np.isfinite(values).all():
        raise fail(probe, "3MF transform is not 12 finite numbers")
    matrix[:, :3] = np.array(values).reshape(4, 3)
    matrix[3, :3] *= unit_mm
    return matrix

