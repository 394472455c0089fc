"""Deprecated module path of :mod:`geodl.datasets.rooms.standin` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import standin

warnings.warn("geodl.datasets.room_standin is deprecated; use geodl.datasets.rooms.standin",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = standin
