"""Disparity estimation from light fields, classical and learned, behind one
interface: :func:`estimate_disparity`."""
from geodl.lightfield.depth.cost_volume import cost_volume_disparity
from geodl.lightfield.depth.estimate import (METHODS, estimate_disparity, register_method,
                                             scene_disparity_range)

register_method("cost_volume", cost_volume_disparity)

__all__ = ["METHODS", "cost_volume_disparity", "estimate_disparity", "register_method",
           "scene_disparity_range"]

# learned methods (weights in geodl/lightfield/depth/weights/)
from geodl.lightfield.depth.cost_net import cost_net_disparity  # noqa: E402
from geodl.lightfield.depth.epinet import epinet_disparity  # noqa: E402

register_method("epinet", epinet_disparity)
register_method("cost_net", cost_net_disparity)
__all__ += ["cost_net_disparity", "epinet_disparity"]
