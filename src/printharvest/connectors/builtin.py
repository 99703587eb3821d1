"""The built-in connectors, registered the same way a plugin registers its own."""

from __future__ import annotations

from .base import FileConnector, PrinterPoller
from .dicom import DicomConnector
from .joblog import JobLogConnector
from .mesh import StlConnector
from .prusaslicer import PrusaSlicerConnector

CONNECTORS: list[type[FileConnector]] = [
    StlConnector, PrusaSlicerConnector, JobLogConnector, DicomConnector,
]
POLLERS: list[type[PrinterPoller]] = []
