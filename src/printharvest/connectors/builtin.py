"""The built-in connectors, registered the same way a plugin registers its own."""

from __future__ import annotations

from printharvest.connectors.base import FileConnector
from printharvest.connectors.dicom.connector import DicomConnector
from printharvest.connectors.dicom.segobjects import DicomSegConnector, RtStructConnector
from printharvest.connectors.gcode.bambustudio import BambuStudioConnector
from printharvest.connectors.gcode.bgcode import BgcodeConnector
from printharvest.connectors.gcode.cura import CuraConnector
from printharvest.connectors.gcode.flashprint import FlashPrintConnector
from printharvest.connectors.gcode.gcode3mf import SlicedThreeMfConnector
from printharvest.connectors.gcode.icesl import IceSLConnector
from printharvest.connectors.gcode.ideamaker import IdeaMakerConnector
from printharvest.connectors.gcode.kirimoto import KiriMotoConnector
from printharvest.connectors.gcode.kisslicer import KISSlicerConnector
from printharvest.connectors.gcode.legacycura import LegacyCuraConnector
from printharvest.connectors.gcode.orcaslicer import OrcaSlicerConnector
from printharvest.connectors.gcode.prusaslicer import PrusaSlicerConnector
from printharvest.connectors.gcode.simplify3d import Simplify3DConnector
from printharvest.connectors.gcode.ufp import UfpConnector
from printharvest.connectors.joblog.connector import JobLogConnector
from printharvest.connectors.mesh import MESH_CONNECTORS
from printharvest.connectors.printer_files.formlabs import FormlabsPrintsConnector
from printharvest.connectors.printer_files.moonraker import MoonrakerHistoryConnector
from printharvest.connectors.printer_files.octoprint import OctoPrintMetadataConnector
from printharvest.connectors.printer_files.preform import PreFormConnector
from printharvest.connectors.printer_files.stratasys import StratasysStatusConnector
from printharvest.connectors.segmentation.colortable import SlicerColorTableConnector
from printharvest.connectors.segmentation.mrb import SlicerSceneConnector
from printharvest.connectors.segmentation.slicer import SlicerSegmentationConnector

CONNECTORS: list[type[FileConnector]] = [
    # Meshes and imaging.
    *MESH_CONNECTORS,
    DicomConnector,
    # Segmentations (what the model was segmented into, and with which software).
    SlicerSegmentationConnector,
    SlicerSceneConnector,
    SlicerColorTableConnector,
    DicomSegConnector,
    RtStructConnector,
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
    FlashPrintConnector,
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
