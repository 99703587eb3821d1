"""printharvest: prefilled ACR-RSNA 3D Printing Registry cases from a lab's own files.

The public facade: the models, the connector base classes, the errors, and the App.
"""

from __future__ import annotations

from .app import App
from .case import Case, FieldValue, Provenance
from .connectors.base import FileConnector, PollBatch, PrinterPoller
from .exceptions import (
    ConfigError,
    CorruptFileError,
    HarvestError,
    PluginError,
    PrintharvestError,
    RegistryError,
    StoreError,
    UnsupportedFileError,
    ValidationError,
)
from .models import HarvestRecord, Imaging, Material, Part, Printer, Slicer, Source
from .probe import FileProbe, probe_file

__version__ = "0.1.0"

__all__ = [
    "App",
    "Case",
    "ConfigError",
    "CorruptFileError",
    "FieldValue",
    "FileConnector",
    "FileProbe",
    "HarvestError",
    "HarvestRecord",
    "Imaging",
    "Material",
    "Part",
    "PluginError",
    "PollBatch",
    "Printer",
    "PrinterPoller",
    "PrintharvestError",
    "Provenance",
    "RegistryError",
    "Slicer",
    "Source",
    "StoreError",
    "UnsupportedFileError",
    "ValidationError",
    "__version__",
    "probe_file",
]
