"""The built-in connectors, registered the same way a plugin registers its own."""

from __future__ import annotations

from .base import FileConnector, PrinterPoller
from .mesh import MESH_CONNECTORS
from .prusaslicer import PrusaSlicerConnector

CONNECTORS: list[type[FileConnector]] = [*MESH_CONNECTORS, PrusaSlicerConnector]
POLLERS: list[type[PrinterPoller]] = []
