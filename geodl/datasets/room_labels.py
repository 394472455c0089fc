"""Deprecated module path of :mod:`geodl.datasets.rooms.labels` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import labels

warnings.warn("geodl.datasets.room_labels is deprecated; use geodl.datasets.rooms.labels",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = labels
