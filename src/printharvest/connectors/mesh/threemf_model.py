"""One 3MF model part (``*.model`` XML), read as a stream with defusedxml.

Patient models reach millions of triangles; a whole ElementTree of them would take several
times the XML's size. The part is read with ``iterparse`` (DTDs, hence entities, refused),
vertex and triangle attributes go straight into flat arrays, and finished elements are
dropped as the stream moves on.
"""

from __future__ import annotations

import io
import posixpath
from array import array
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

import numpy as np

from printharvest.connectors.mesh.base import MAX_TRIANGLES, fail
from printharvest.connectors.probe import FileProbe

CORE = "{http://schemas.microsoft.com/3dmanufacturing/core/2015/02}"
PROD = "{http://schemas.microsoft.com/3dmanufacturing/production/2015/06}"
UNITS_MM = {
    "micron": 0.001, "millimeter": 1.0, "centimeter": 10.0,
    "inch": 25.4, "foot": 304.8, "meter": 1000.0,
}
_FLUSH = 4096  # finished vertex / triangle elements dropped every this many


@dataclass
class ObjectDef:
    """One ``<object>``: a mesh, or components referring to other objects."""

    name: str | None
    kind: str
    unit_mm: float
    vertices: np.ndarray | None = None
    triangles: np.ndarray | None = None
    components: list[tuple[str, str, np.ndarray]] = field(default_factory=list)


@dataclass
class ModelPart:
    """What one model part declares."""

    unit_mm: float = 1.0
    objects: dict[str, ObjectDef] = field(default_factory=dict)
    items: list[tuple[str, str, np.ndarray]] = field(default_factory=list)
    application: str | None = None
    triangles: int = 0


def read_model_part(
    probe: FileProbe, data: bytes, path: str, *, is_root: bool, triangles_before: int = 0
) -> ModelPart:
    """Parse one model part; ``path`` names it in messages and resolves component paths."""
    import defusedxml  # type: ignore[import-untyped]
    import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]

    reader = _Reader(probe, path, is_root, triangles_before)
    try:
        for event, elem in SafeET.iterparse(io.BytesIO(data), events=("start", "end"),
                                            forbid_dtd=True):
            if event == "start":
                reader.start(elem)
            else:
                reader.end(elem)
    except defusedxml.DefusedXmlException as exc:
        raise fail(probe, f"3MF part {path[:80]} declares a DTD or entities "
                          "(refused as hostile XML)") from exc
    except ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise fail(probe, f"3MF part {path[:80]} is not well-formed XML (line {line})") from exc
    except (TypeError, ValueError) as exc:
        raise fail(probe, "3MF mesh has a vertex or triangle that cannot be read") from exc
    if not reader.saw_model:
        raise fail(probe, f"3MF part {path[:80]} is not a 3MF core model")
    return reader.part


class _Reader:
    """The iterparse state machine: the element stack and the object being read."""

    def __init__(self, probe: FileProbe, path: str, is_root: bool, triangles: int) -> None:
        self.probe = probe
        self.path = path
        self.is_root = is_root
        self.part = ModelPart(triangles=triangles)
        self.depth = 0
        self.saw_model = False
        self.obj: ObjectDef | None = None
        self.obj_id = ""
        self.coords: array[float] = array("d")
        self.corners: array[int] = array("q")
        self.container: Element | None = None
        self.count = 0

    def start(self, elem: Element) -> None:
        self.depth += 1
        tag = elem.tag
        if self.depth == 1:
            if tag != CORE + "model":
                raise fail(self.probe, f"3MF part {self.path[:80]} is not a 3MF core model")
            self.saw_model = True
            unit = elem.get("unit", "millimeter")
            if unit not in UNITS_MM:
                raise fail(self.probe, f"3MF unit '{unit[:20]}' is not one the 3MF spec defines")
            self.part.unit_mm = UNITS_MM[unit]
        elif tag == CORE + "object":
            self.obj = ObjectDef(elem.get("name"), elem.get("type", "model"), self.part.unit_mm)
            self.obj_id = str(elem.get("id"))
            self.coords, self.corners = array("d"), array("q")
        elif tag in (CORE + "vertices", CORE + "triangles"):
            self.container = elem

    def end(self, elem: Element) -> None:
        self.depth -= 1
        tag = elem.tag
        if tag == CORE + "vertex":
            self.coords.extend((float(elem.get("x")), float(elem.get("y")),  # type: ignore[arg-type]
                                float(elem.get("z"))))  # type: ignore[arg-type]
            self._flush()
        elif tag == CORE + "triangle":
            self.corners.extend((int(elem.get("v1")), int(elem.get("v2")),  # type: ignore[arg-type]
                                 int(elem.get("v3"))))  # type: ignore[arg-type]
            self.part.triangles += 1
            if self.part.triangles > MAX_TRIANGLES:
                raise fail(self.probe, f"3MF holds more than {MAX_TRIANGLES} triangles")
            self._flush()
        elif tag in (CORE + "vertices", CORE + "triangles"):
            elem.clear()
            self.container = None
        elif tag == CORE + "component" and self.obj is not None:
            self._component(elem)
        elif tag == CORE + "object" and self.obj is not None:
            if self.corners:
                self.obj.vertices = np.frombuffer(self.coords, np.float64).reshape(-1, 3).copy()
                self.obj.triangles = np.frombuffer(self.corners, np.int64).reshape(-1, 3).copy()
            self.part.objects[self.obj_id] = self.obj
            self.obj = None
            elem.clear()
        elif tag == CORE + "item" and self.depth == 2:
            target = part_path(elem.get(PROD + "path"), self.path)
            matrix = transform(self.probe, elem.get("transform"), self.part.unit_mm)
            self.part.items.append((target, str(elem.get("objectid")), matrix))
        elif (tag == CORE + "metadata" and self.depth == 1
              and elem.get("name") == "Application" and elem.text):
            self.part.application = elem.text.strip()

    def _flush(self) -> None:
        self.count += 1
        if self.count % _FLUSH == 0 and self.container is not None:
            self.container.clear()  # drops the finished children read so far

    def _component(self, elem: Element) -> None:
        assert self.obj is not None
        if elem.get(PROD + "path") and not self.is_root:
            raise fail(self.probe, "3MF component in a non-root model part has a path "
                                   "(the production extension forbids it)")
        target = part_path(elem.get(PROD + "path"), self.path)
        matrix = transform(self.probe, elem.get("transform"), self.part.unit_mm)
        self.obj.components.append((target, str(elem.get("objectid")), matrix))


def part_path(attr: str | None, current: str) -> str:
    """The model part a ``p:path`` names (the current part when absent)."""
    if not attr:
        return current
    return posixpath.normpath(attr.lstrip("/"))


def transform(probe: FileProbe, text: str | None, unit_mm: float) -> np.ndarray:
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
