"""Mesh connectors, one module per format family; this module names them all.

Kept so that ``from printharvest.connectors.mesh import StlConnector`` keeps working.
"""

from __future__ import annotations

from printharvest.connectors.mesh.base import MeshConnector, mesh_record
from printharvest.connectors.mesh.gltf import GltfConnector
from printharvest.connectors.mesh.obj import ObjConnector
from printharvest.connectors.mesh.off import OffConnector
from printharvest.connectors.mesh.ply import PlyConnector
from printharvest.connectors.mesh.stl import StlConnector
from printharvest.connectors.mesh.threemf import ThreeMfConnector

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
