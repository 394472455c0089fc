"""Room reconstruction from light-field captures: loading captures folders
(``captures``), ...."""
from geodl.recon.captures import load_captures, load_room_ground_truth

__all__ = ["load_captures", "load_room_ground_truth"]
