"""Validated containers on top of ``geodl.ops``. Graphs are PyG ``Data``."""
from geodl.structures.camera import PinholeCamera
from geodl.structures.disparity_ground_truth import GroundTruth
from geodl.structures.graph import from_networkx, to_networkx
from geodl.structures.lightfield import LightField
from geodl.structures.lightfield_rig import LightFieldRig
from geodl.structures.mesh import Mesh
from geodl.structures.pointcloud import PointCloud
from geodl.structures.posed_images import PosedImages

__all__ = ["GroundTruth", "LightField", "LightFieldRig", "Mesh", "PinholeCamera", "PointCloud",
           "PosedImages",
           "from_networkx", "to_networkx"]
