"""The classical estimators run where their input lives.

Two checks, in the style of ``test_layer_devices.py``:

* moved with ``.to(device)`` (CUDA when present, else the CPU), each gives
  the CPU answer on that device;
* no tensor is made on a hard-coded device: under :class:`NoDefaultDevice`
  every tensor factory called without ``device=`` makes a "meta" tensor (no
  data), so an allocation that does not follow the input (``torch.zeros(H,
  W)`` beside CUDA views) breaks the computation or changes the answer, on
  the CPU alone. Steps that work on the CPU on purpose (RANSAC, scipy's
  labelling) say so with ``device="cpu"``.
"""
from __future__ import annotations

import pytest
import torch
from torch.overrides import TorchFunctionMode

from geodl.lightfield.depth import (
    cost_volume_disparity,
    estimate_disparity,
    structure_tensor_disparity,
)
from geodl.lightfield.depth.cost_volume import CostVolumeConfig
from geodl.lightfield.depth.disparity_range import estimate_disparity_range
from geodl.lightfield.depth.planes import snap_to_planes
from geodl.lightfield.depth.textureless import fill_textureless
from geodl.lightfield.refocus import refocus, warp_lightfield_to_center
from geodl.lightfield.synthesis import synthesize_views
from geodl.lightfield.synthesis.sparse_disparity import plane_sweep_disparity
from geodl.structures import LightField
from tests.helpers import plane_lightfield

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
RANGE = (-1.0, 2.0)

#: the tensor factories whose device, when not given, is torch's default
FACTORIES = {torch.zeros, torch.ones, torch.empty, torch.full, torch.arange, torch.linspace,
             torch.logspace, torch.tensor, torch.eye, torch.rand, torch.randn, torch.randint,
             torch.randperm}


class NoDefaultDevice(TorchFunctionMode):
    """Tensor factories called without ``device=`` make "meta" tensors."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in FACTORIES and kwargs.get("device") is None:
            kwargs["device"] = "meta"
        return func(*args, **kwargs)


def _moved(lf: LightField, device: torch.device) -> LightField:
    return LightField(lf.views.to(device), lf.camera, lf.baseline, lf.focus_distance)


def _flat(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [v for v in vars(out).values() if isinstance(v, torch.Tensor)]  # dataclasses


def _maps():
    """(disparity, confidence, image) with a textureless square on a slanted plane."""
    g = torch.Generator().manual_seed(0)
    H = W = 48
    image = torch.rand(3, H, W, generator=g) * 0.5
    image[:, 6:42, 6:42] = 0.4
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float64),
                            torch.arange(W, dtype=torch.float64), indexing="ij")
    disparity = 0.3 + 0.01 * xs + 0.005 * ys + 0.05 * torch.sin(xs / 5)
    confidence = torch.rand(H, W, generator=g, dtype=torch.float64)
    confidence[10:38, 10:38] = 0.05
    return disparity, confidence, image


@pytest.fixture(scope="module")
def lf():
    return plane_lightfield(size=24, n=5, a=0.5, bx=0.01)[0]


#: name -> function of (light field, maps) running one estimator
ESTIMATORS = {
    "cost_volume": lambda lf, m: cost_volume_disparity(lf, RANGE),
    "cost_volume all views, guided filter, 8 paths": lambda lf, m: cost_volume_disparity(
        lf, RANGE, config=CostVolumeConfig(views="all", lines=4, radius=2, sgm_paths=8)),
    "structure_tensor": lambda lf, m: structure_tensor_disparity(lf, RANGE),
    "estimate_disparity with planes": lambda lf, m: estimate_disparity(
        lf, "cost_volume", disp_range=RANGE, planes=True, iterations=0),
    "estimate_disparity_range": lambda lf, m: torch.tensor(estimate_disparity_range(lf),
                                                           device="cpu"),
    "snap_to_planes": lambda lf, m: snap_to_planes(m[0], m[1]),
    "fill_textureless": lambda lf, m: fill_textureless(*m, min_size=100),
    "plane_sweep_disparity": lambda lf, m: plane_sweep_disparity(
        torch.stack([lf.view(0, 0), lf.view(0, 4), lf.view(4, 0)]),
        [(0, 0), (0, 4), (4, 0)], (2.0, 2.0), RANGE),
    "synthesize_views warp": lambda lf, m: synthesize_views(
        lf, "corners", targets=[(2, 2), (1.5, 2.5)], method="warp", disp_range=RANGE)[:2],
    "synthesize_views mpi": lambda lf, m: synthesize_views(
        lf, "corners", targets=[(2, 2)], method="mpi", disp_range=RANGE, planes=8)[:2],
    "refocus": lambda lf, m: refocus(lf, 0.5),
    "warp_lightfield_to_center": lambda lf, m: warp_lightfield_to_center(lf, m[0][:24, :24]),
    "synthesize_views nearest": lambda lf, m: synthesize_views(
        lf, "corners", targets=[(2, 2)], method="nearest", disp_range=RANGE)[:2],
}


def _on(lf, maps, device):
    return _moved(lf, device), tuple(t.to(device) for t in maps)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_estimator_runs_on_the_inputs_device(lf, name):
    ref = _flat(ESTIMATORS[name](lf, _maps()))
    out = _flat(ESTIMATORS[name](*_on(lf, _maps(), DEVICE)))
    assert len(out) == len(ref)
    for o, r in zip(out, ref):
        if name == "estimate_disparity_range":  # a pair of Python floats
            assert torch.allclose(o.cpu(), r, atol=1e-3)
            continue
        assert o.device.type == DEVICE.type and o.dtype == r.dtype
        assert torch.allclose(o.cpu().double(), r.double(), atol=1e-4, equal_nan=True)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_estimator_makes_no_tensor_on_a_fixed_device(lf, name):
    ref = _flat(ESTIMATORS[name](lf, _maps()))
    maps = _maps()  # built outside the guard: real CPU inputs
    with NoDefaultDevice():
        out = _flat(ESTIMATORS[name](lf, maps))
    for o, r in zip(out, ref):
        assert o.device.type == "cpu"
        assert torch.equal(torch.nan_to_num(o, nan=-1.0), torch.nan_to_num(r, nan=-1.0))


def test_the_guard_catches_a_fixed_allocation():
    x = torch.ones(3)
    with NoDefaultDevice(), pytest.raises(RuntimeError):
        x + torch.zeros(3)


def test_fusion_inputs_follow_the_disparity(lf):
    from geodl.recon.reconstruct import capture_frame, capture_points

    d = torch.full((lf.height, lf.width), 0.5, dtype=torch.float64)
    ref_frame, ref_points = capture_frame(lf, d), capture_points(lf, d)
    moved = _moved(lf, DEVICE)
    frame, points = capture_frame(moved, d.to(DEVICE)), capture_points(moved, d.to(DEVICE))
    assert frame.depth.device.type == DEVICE.type and frame.mask.device.type == DEVICE.type
    assert points.points.device.type == DEVICE.type
    assert torch.allclose(frame.depth.cpu(), ref_frame.depth)
    assert torch.allclose(points.points.cpu(), ref_points.points)
    with NoDefaultDevice():
        frame = capture_frame(lf, d, torch.ones_like(d), 0.5)
        points = capture_points(lf, d)
    assert torch.equal(frame.depth, ref_frame.depth) and torch.equal(points.points,
                                                                     ref_points.points)
