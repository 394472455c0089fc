"""Light fields: one loader for camera and benchmark folders (``load_lightfield``),
HCI-benchmark I/O, EPIs, warping and refocusing, the benchmark
(``geodl.lightfield.benchmark``), disparity estimation
(``geodl.lightfield.depth``) and novel-view synthesis
(``geodl.lightfield.synthesis``)."""
from geodl.lightfield import benchmark
from geodl.lightfield.benchmark import (
                                        evaluate_submission,
                                        metrics,
                                        read_submission,
                                        write_submission,
)
from geodl.lightfield.epi import epi
from geodl.lightfield.hci_io import (
                                        camera_from_parameters,
                                        load_ground_truth,
                                        load_hci,
                                        parameters_from_light_field,
                                        scene_files,
                                        write_hci_scene,
)
from geodl.lightfield.hci_parameters import HCIParameters
from geodl.lightfield.loader import LAYOUTS, load_lightfield
from geodl.lightfield.pfm import read_pfm, write_pfm
from geodl.lightfield.refocus import refocus, warp_lightfield_to_center, warp_to_center

__all__ = ["HCIParameters", "LAYOUTS", "benchmark", "camera_from_parameters", "epi",
           "evaluate_submission", "load_ground_truth", "load_hci", "load_lightfield", "metrics",
           "parameters_from_light_field", "read_pfm", "read_submission", "refocus",
           "scene_files", "warp_lightfield_to_center", "warp_to_center", "write_hci_scene",
           "write_pfm", "write_submission"]
