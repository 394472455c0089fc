"""Novel-view synthesis from sparse light-field views (``synthesize_views``):
warping (backward with the target's disparity, z-buffered forward, softmax
splatting), disparity at any grid position from a few views (plane sweep),
blending with hole filling, multiplane images, and PSNR / SSIM."""
from geodl.lightfield.synthesis.blend import blend_views, consensus_blend
from geodl.lightfield.synthesis.inpaint import push_pull
from geodl.lightfield.synthesis.learned import (  # registers method="learned"
    SynthesisNet,
    load_synthesis_model,
    synthesize_learned,
)
from geodl.lightfield.synthesis.metrics import psnr, ssim
from geodl.lightfield.synthesis.mpi import MPI, build_mpi, render_mpi
from geodl.lightfield.synthesis.sources import named_positions, parse_positions
from geodl.lightfield.synthesis.sparse_disparity import plane_sweep_disparity
from geodl.lightfield.synthesis.synthesize import METHODS, register_method, synthesize_views
from geodl.lightfield.synthesis.warp import (
    backward_warp,
    forward_warp,
    sample_positions,
    soft_splat,
    warp,
)

__all__ = ["METHODS", "MPI", "SynthesisNet", "load_synthesis_model", "synthesize_learned",
           "backward_warp", "blend_views", "build_mpi", "consensus_blend",
           "forward_warp", "named_positions", "parse_positions", "plane_sweep_disparity",
           "psnr", "push_pull", "register_method", "render_mpi", "sample_positions",
           "soft_splat", "ssim", "synthesize_views", "warp"]
