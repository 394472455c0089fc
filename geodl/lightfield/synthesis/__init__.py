"""Novel-view synthesis from sparse light-field views: warping (backward,
z-buffered forward, soft splatting), ..."""
from geodl.lightfield.synthesis.warp import (
    backward_warp,
    forward_warp,
    sample_positions,
    soft_splat,
    warp,
)

__all__ = ["backward_warp", "forward_warp", "sample_positions", "soft_splat", "warp"]
