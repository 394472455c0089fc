"""Deprecated module path of :mod:`geodl.datasets.rooms.rgbd` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import rgbd

warnings.warn("geodl.datasets.room_rgbd is deprecated; use geodl.datasets.rooms.rgbd",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = rgbd
