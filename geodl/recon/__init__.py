"""Room reconstruction from light-field captures. ``captures``: captures
folders (one HCI scene folder per capture, with its pose) and the room's
ground truth; ``fusion``, ``evaluate``, ``reconstruct``: TSDF fusion, the
metrics, the pipeline."""
from geodl.recon.captures import load_captures, load_room_ground_truth
from geodl.recon.evaluate import ReconstructionMetrics, evaluate_reconstruction, sample_surface
from geodl.recon.fusion import DepthFrame, TSDFVolume, fuse_tsdf, save_mesh
from geodl.recon.photos import fuse_stereo, reconstruct_photos
from geodl.recon.reconstruct import (
    ReconstructionResult,
    capture_frame,
    capture_points,
    estimate_for_fusion,
    fuse_captures,
    reconstruct_room,
)

__all__ = ["DepthFrame", "ReconstructionMetrics", "ReconstructionResult", "TSDFVolume",
           "capture_frame", "capture_points", "estimate_for_fusion", "evaluate_reconstruction",
           "fuse_captures", "fuse_stereo", "fuse_tsdf",
           "load_captures", "load_room_ground_truth", "reconstruct_photos", "reconstruct_room",
           "sample_surface", "save_mesh"]
