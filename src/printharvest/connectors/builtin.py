"""The built-in connectors, registered the same way a plugin registers its own."""

from __future__ import annotations

from .bambustudio import BambuStudioConnector
from .base import FileConnector, PrinterPoller
from .bgcode import BgcodeConnector
from .cura import CuraConnector
from .gcode3mf import SlicedThreeMfConnector
from .icesl import IceSLConnector
from .ideamaker import IdeaMakerConnector
from .kirimoto import KiriMotoConnector
from .kisslicer import KISSlicerConnector
from .legacycura import LegacyCuraConnector
from .mesh import StlConnector
from .orcaslicer import OrcaSlicerConnector
from .prusaslicer import PrusaSlicerConnector
from .simplify3d import Simplify3DConnector
from .ufp import UfpConnector

CONNECTORS: list[type[FileConnector]] = [
    StlConnector,
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
]
POLLERS: list[type[PrinterPoller]] = []
