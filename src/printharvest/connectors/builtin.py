"""The built-in connectors, registered the same way a plugin registers its own."""

from __future__ import annotations

from ..pollers.formlabs import FormlabsWebPoller
from ..pollers.moonraker import MoonrakerPoller
from ..pollers.octoprint import OctoPrintPoller
from ..pollers.stratasys import StratasysPoller
from .base import FileConnector, PrinterPoller
from .dicom import DicomConnector
from .formlabs import FormlabsPrintsConnector
from .joblog import JobLogConnector
from .mesh import StlConnector
from .moonraker import MoonrakerHistoryConnector
from .octoprint import OctoPrintMetadataConnector
from .preform import PreFormConnector
from .prusaslicer import PrusaSlicerConnector
from .stratasys import StratasysStatusConnector

CONNECTORS: list[type[FileConnector]] = [
    StlConnector, PrusaSlicerConnector, JobLogConnector, DicomConnector,
    FormlabsPrintsConnector, PreFormConnector, StratasysStatusConnector,
    OctoPrintMetadataConnector, MoonrakerHistoryConnector,
]
POLLERS: list[type[PrinterPoller]] = [
    FormlabsWebPoller, StratasysPoller, OctoPrintPoller, MoonrakerPoller,
]
