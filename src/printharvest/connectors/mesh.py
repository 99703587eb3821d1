"""Mesh connectors, one module per format family; this module names them all.

Kept so that ``from printharvest.connectors.mesh import StlConnector`` keeps working.
"""

from __future__ import annotations

from .gltf import GltfConnector
from .meshbase import MeshConnector, mesh_record
from .obj import ObjConnector
from .off import OffConnector
from .ply import PlyConnector
from .stl import StlConnector
from .threemf import ThreeMfConnector

MESH_CONNECTORS = (
    StlConnector, ObjConnector, PlyConnector, OffConnector, GltfConnector, ThreeMfConnector
)

__all__ = [
    "MESH_CONNECTORS",
    "GltfConnector",
    "MeshConnector",
    "ObjConnector",
    "OffConnector",
    "PlyConnector",
    "StlConnector",
    "ThreeMfConnector",
    "mesh_record",
]
