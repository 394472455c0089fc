"""Deprecated module path of :mod:`geodl.datasets.rooms.segmentation` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import segmentation

warnings.warn("geodl.datasets.room_segmentation is deprecated; use geodl.datasets.rooms.segmentation",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = segmentation
