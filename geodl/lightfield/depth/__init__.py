"""Disparity estimation from light fields, classical and learned, behind one
interface: :func:`estimate_disparity`."""
from geodl.lightfield.depth.cost_net import cost_net_disparity
from geodl.lightfield.depth.cost_volume import CostVolumeConfig, cost_volume_disparity
from geodl.lightfield.depth.disparity_range import estimate_disparity_range
from geodl.lightfield.depth.epinet import epinet_disparity
from geodl.lightfield.depth.estimate import (
                                             METHODS,
                                             PLANAR_PRIOR,
                                             check_disp_range,
                                             estimate_disparity,
                                             register_method,
                                             scene_disparity_range,
)
from geodl.lightfield.depth.refine_net import RefineConfig, refine_net_disparity
from geodl.lightfield.depth.structure_tensor import structure_tensor_disparity
from geodl.lightfield.depth.textureless import TexturelessConfig

# the two whose answers end in the edge-aware WLS are snapped to the scene's
# planes by default (estimate.py's docstring has the figures)
register_method("cost_volume", cost_volume_disparity)
register_method("structure_tensor", structure_tensor_disparity)
# learned (weights shipped in geodl/lightfield/depth/weights/)
register_method("epinet", epinet_disparity)
register_method("cost_net", cost_net_disparity)
register_method("refine_net", refine_net_disparity)  # cost_volume + a learned correction

__all__ = ["METHODS", "PLANAR_PRIOR", "CostVolumeConfig", "RefineConfig", "TexturelessConfig",
           "check_disp_range", "cost_net_disparity", "cost_volume_disparity",
           "epinet_disparity", "estimate_disparity", "refine_net_disparity", "register_method",
           "scene_disparity_range", "estimate_disparity_range",
           "structure_tensor_disparity"]
