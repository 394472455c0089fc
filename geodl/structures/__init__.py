"""Validated containers on top of ``geodl.ops``. Graphs are PyG ``Data``."""
from geodl.structures.camera import PinholeCamera
from geodl.structures.graph import from_networkx, to_networkx
from geodl.structures.lightfield import LightField
from geodl.structures.mesh import Mesh
from geodl.structures.pointcloud import PointCloud

__all__ = ["LightField", "Mesh", "PinholeCamera", "PointCloud", "from_networkx", "to_networkx"]
