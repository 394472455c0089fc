"""Room reconstruction from light-field captures. ``captures``: captures
folders (one HCI scene folder per capture, with its pose) and the room's
ground truth."""
from geodl.recon.captures import load_captures, load_room_ground_truth

__all__ = ["load_captures", "load_room_ground_truth"]
