"""Disparity estimation from light fields, classical and learned, behind one
interface: :func:`estimate_disparity`."""
from geodl.lightfield.depth.cost_volume import cost_volume_disparity
from geodl.lightfield.depth.estimate import (
                                             METHODS,
                                             estimate_disparity,
                                             register_method,
                                             scene_disparity_range,
)
from geodl.lightfield.depth.structure_tensor import structure_tensor_disparity

register_method("cost_volume", cost_volume_disparity)
register_method("structure_tensor", structure_tensor_disparity)

__all__ = ["METHODS", "cost_volume_disparity", "estimate_disparity", "register_method",
           "scene_disparity_range", "structure_tensor_disparity"]
