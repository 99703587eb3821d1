"""What every mesh connector shares: size limits, error translation, the mesh record.

A format module only parses its file into vertices and faces (millimetres) and hands them
to :mod:`.geometry`; this module turns the figures into the contract's record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from printharvest.connectors.base import FileConnector
from printharvest.connectors.mesh.geometry import InvalidMeshError, MeshFigures
from printharvest.connectors.probe import FileProbe
from printharvest.exceptions import CorruptFileError
from printharvest.models import HarvestRecord, Part

MAX_MESH_BYTES = 4 << 30
"""Mesh files above this size are refused rather than read (4 GiB: ~80 M triangles)."""
MAX_TRIANGLES = 100_000_000
"""More triangles than this is a broken header, not a printable model."""
DIGITS = 4
_T = TypeVar("_T")


class MeshConnector(FileConnector):
    """A file connector that yields one ``mesh`` record per file."""

    def figures(self, probe: FileProbe) -> MeshFigures:
        """Parse the file into figures; subclasses implement this."""
        raise NotImplementedError

    def extra_fields(self, probe: FileProbe) -> dict[str, Any]:
        """Fields beside the geometry (slicer, materials, layer height); none by default."""
        return {}

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One mesh record for the whole file."""
        with mesh_errors(probe):
            figures = self.figures(probe)
        return [mesh_record(self, probe, figures, **self.extra_fields(probe))]


@contextmanager
def mesh_errors(probe: FileProbe) -> Iterator[None]:
    """Turn parse failures into a one-line CorruptFileError naming the file."""
    try:
        yield
    except InvalidMeshError as exc:
        raise CorruptFileError(probe.display_path, str(exc)) from exc
    except MemoryError as exc:
        raise CorruptFileError(probe.display_path, "mesh too large to read in memory") from exc


def fail(probe: FileProbe, reason: str) -> CorruptFileError:
    """A CorruptFileError for ``probe`` (to ``raise``)."""
    return CorruptFileError(probe.display_path, reason)


def guarded(probe: FileProbe, what: str, func: Callable[[], _T]) -> _T:
    """Run a parsing step; a low-level error becomes a one-line reason about ``what``."""
    try:
        return func()
    except (CorruptFileError, InvalidMeshError, MemoryError):
        raise
    except (ValueError, IndexError, KeyError, TypeError, OverflowError, UnicodeError) as exc:
        raise fail(probe, f"{what} ({type(exc).__name__})") from exc


def mesh_record(
    connector: FileConnector, probe: FileProbe, figures: MeshFigures, **extra: Any
) -> HarvestRecord:
    """The contract record of a mesh file from its figures."""
    parts = [
        Part(name=body.name, volume_ml=_round(body.volume_ml), bbox_mm=_box(body.size_mm))
        for body in figures.sorted_bodies()
    ]
    box = figures.bbox_mm
    warnings = figures.all_warnings() + list(extra.pop("warnings", []))
    return connector.new_record(
        probe,
        "mesh",
        part_count=len(figures.bodies),
        parts=parts,
        volume_ml=_round(figures.volume_ml),
        surface_area_mm2=_round(figures.area_mm2),
        bbox_mm=_box(box) if box is not None else None,
        watertight=figures.watertight,
        warnings=warnings,
        **extra,
    )


def _box(size: list[float]) -> list[float]:
    return [round(max(v, 0.0), DIGITS) for v in size]


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, DIGITS)
