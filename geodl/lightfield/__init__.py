"""Light fields: HCI-benchmark I/O, EPIs, warping and refocusing."""
from geodl.lightfield import metrics
from geodl.lightfield.epi import epi
from geodl.lightfield.hci_io import (camera_from_parameters, load_ground_truth, load_hci,
                                     parameters_from_light_field, write_hci_scene,
                                     write_submission)
from geodl.lightfield.hci_parameters import HCIParameters
from geodl.lightfield.pfm import read_pfm, write_pfm
from geodl.lightfield.refocus import refocus, warp_to_center

__all__ = ["HCIParameters", "camera_from_parameters", "epi", "load_ground_truth", "load_hci",
           "metrics", "parameters_from_light_field", "read_pfm", "refocus", "warp_to_center",
           "write_hci_scene", "write_pfm", "write_submission"]
