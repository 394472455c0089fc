"""What a room reconstruction returns, whatever the captures were: the one
result type of :func:`~geodl.recon.reconstruct_room` and of the fusion of
posed depth frames it dispatches to."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor

from geodl.structures import Mesh, PointCloud


@dataclass
class ReconstructionResult:
    """What :func:`reconstruct_room` made.

    Attributes:
        mesh: the fused, cleaned room mesh with vertex colours.
        points: every capture's confident points, coloured, in world
            coordinates (posed depth frames: None unless asked for).
        seconds: wall time per stage (``disparity``, ``fusion``, ``total``).
        disparity: per capture, the centre view's disparity (H, W) used.
        confidence: per capture, its confidence (H, W) in [0, 1].
        meta: settings chosen from the data (e.g. ``voxel_size``).
    """

    mesh: Mesh
    points: PointCloud | None
    seconds: dict[str, float] = field(default_factory=dict)
    disparity: list[Tensor] = field(default_factory=list)
    confidence: list[Tensor] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
