"""printharvest: prefilled ACR-RSNA 3D Printing Registry cases from a lab's own files.

The public facade: the models, the connector base classes, the errors, and the App.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from printharvest.cases.model import Case, FieldValue, Provenance
from printharvest.connectors.base import FileConnector
from printharvest.connectors.probe import FileProbe, probe_file
from printharvest.exceptions import (
    ConfigError,
    CorruptFileError,
    HarvestError,
    PluginError,
    PollerError,
    PrintharvestError,
    RegistryError,
    StoreError,
    UnsupportedFileError,
    ValidationError,
)
from printharvest.models import HarvestRecord, Imaging, Material, Part, Printer, Slicer, Source
from printharvest.pollers.base import PollBatch, PrinterPoller

if TYPE_CHECKING:
    from printharvest.app import App

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
    "PollerError",
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


def __getattr__(name: str) -> Any:
    # The App pulls in the store, rules and plugin host: load it only when asked for, so that
    # ``import printharvest`` stays light for connector authors.
    if name == "App":
        from printharvest.app import App

        return App
    raise AttributeError(f"module 'printharvest' has no attribute {name!r}")
