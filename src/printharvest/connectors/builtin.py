"""The built-in connectors, registered the same way a plugin registers its own."""

from __future__ import annotations

from ..pollers.formlabs import FormlabsWebPoller
from ..pollers.moonraker import MoonrakerPoller
from ..pollers.octoprint import OctoPrintPoller
from ..pollers.stratasys import StratasysPoller
from .bambustudio import BambuStudioConnector
from .base import FileConnector, PrinterPoller
from .bgcode import BgcodeConnector
from .cura import CuraConnector
from .dicom import DicomConnector
from .formlabs import FormlabsPrintsConnector
from .gcode3mf import SlicedThreeMfConnector
from .icesl import IceSLConnector
from .ideamaker import IdeaMakerConnector
from .joblog import JobLogConnector
from .kirimoto import KiriMotoConnector
from .kisslicer import KISSlicerConnector
from .legacycura import LegacyCuraConnector
from .mesh import MESH_CONNECTORS
from .moonraker import MoonrakerHistoryConnector
from .octoprint import OctoPrintMetadataConnector
from .orcaslicer import OrcaSlicerConnector
from .preform import PreFormConnector
from .prusaslicer import PrusaSlicerConnector
from .simplify3d import Simplify3DConnector
from .stratasys import StratasysStatusConnector
from .ufp import UfpConnector

CONNECTORS: list[type[FileConnector]] = [
    # Meshes and imaging.
    *MESH_CONNECTORS,
    DicomConnector,
    # Slicer files.
    PrusaSlicerConnector,
    OrcaSlicerConnector,
    BambuStudioConnector,
    CuraConnector,
    LegacyCuraConnector,
    Simplify3DConnector,
    IdeaMakerConnector,
    KISSlicerConnector,
    IceSLConnector,
    KiriMotoConnector,
    BgcodeConnector,
    UfpConnector,
    SlicedThreeMfConnector,
    # Printer job logs.
    JobLogConnector,
    FormlabsPrintsConnector,
    PreFormConnector,
    StratasysStatusConnector,
    OctoPrintMetadataConnector,
    MoonrakerHistoryConnector,
]
POLLERS: list[type[PrinterPoller]] = [
    FormlabsWebPoller,
    StratasysPoller,
    OctoPrintPoller,
    MoonrakerPoller,
]
