r"""A structured-light depth sensor (Kinect v1 / PrimeSense-like) on top of a render.

The sensor triangulates a projected infrared pattern: depth comes from the
disparity :math:`d = b f / z` between the projector and the infrared camera
(baseline :math:`b`, focal length :math:`f` in pixels), measured with noise
and quantised to a fraction of a pixel. What it returns, from a ray-cast
render's exact z-depth, normals and the scene:

* **noise and quantisation in disparity**: :math:`d' = \mathrm{round}((d +
  \epsilon) / q)\, q`, :math:`\epsilon \sim N(0, \sigma_d^2)`,
  :math:`z' = b f / d'`. The depth error therefore grows with :math:`z^2`:
  :math:`\sigma_z \approx z^2 \sigma_d / (b f)` and the quantisation step
  :math:`z^2 q / (b f)`. Defaults (Kinect v1, Khoshelham and Elberink 2012:
  random error about 4 cm and depth resolution about 7 cm at 5 m, with
  :math:`b f` = 0.075 m x 580 px): :math:`q = 1/8` px gives 7.2 cm at 5 m,
  :math:`\sigma_d = 0.07` px gives 4.0 cm there (1.4 cm at 3 m).
* **projector shadow**: points the projector (``baseline`` along the
  camera's x axis) cannot see get no depth (the band beside every
  foreground edge real Kinect maps show), found by casting a ray from the
  projector to each point;
* **grazing angles**: the pattern smears on surfaces seen at a grazing angle:
  no depth with probability rising linearly from 0 at ``grazing_start_deg``
  to 1 at ``grazing_end_deg`` between the ray and the surface normal;
* **edges**: pixels beside a depth jump (a 4-neighbour more than
  ``edge_jump`` x z away) are dropped with probability ``edge_dropout``;
* **speckle and range**: isolated dropouts with probability
  ``speckle_dropout``; nothing nearer than ``min_depth`` or beyond
  ``max_depth``.

"No depth" is 0, as sensors store it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from geodl.render.raycast import Renderer, RenderResult
from geodl.structures import PinholeCamera


@dataclass
class StructuredLightSensor:
    """Parameters of the structured-light depth model (module docstring).

    Args:
        baseline: projector-to-camera distance (m), along the camera's x axis.
        focal_px: the infrared camera's focal length (px) at which disparity
            is measured: the sensor's own, whatever the size of the image
            the depth is delivered at (Kinect v1: 580).
        disparity_noise: standard deviation of the disparity (px).
        disparity_step: disparity quantisation (px).
        min_depth, max_depth: the working range (m).
        grazing_start_deg, grazing_end_deg: angles (between the viewing ray
            and the surface normal) where dropouts start and become certain.
        edge_jump: a neighbour whose depth differs by more than this
            fraction of z marks a depth edge.
        edge_dropout: probability of dropping a pixel beside a depth edge.
        speckle_dropout: probability of dropping any pixel.
        shadow: leave out what the projector cannot see.
    """

    baseline: float = 0.075
    focal_px: float = 580.0
    disparity_noise: float = 0.07
    disparity_step: float = 0.125
    min_depth: float = 0.4
    max_depth: float = 5.0
    grazing_start_deg: float = 70.0
    grazing_end_deg: float = 85.0
    edge_jump: float = 0.04
    edge_dropout: float = 0.5
    speckle_dropout: float = 0.005
    shadow: bool = True

    def __post_init__(self) -> None:
        for name in ("baseline", "focal_px", "max_depth", "edge_jump"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: expected > 0, got {getattr(self, name)!r}")
        for name in ("disparity_noise", "disparity_step", "min_depth"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: expected >= 0, got {getattr(self, name)!r}")
        for name in ("edge_dropout", "speckle_dropout"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: expected a probability, got {getattr(self, name)!r}")
        if not 0 < self.grazing_start_deg < self.grazing_end_deg <= 90:
            raise ValueError("grazing_start_deg, grazing_end_deg: expected 0 < start < end <= "
                             f"90, got {self.grazing_start_deg}, {self.grazing_end_deg}")

    def as_dict(self) -> dict:
        return asdict(self)

    def measure(self, renderer: Renderer, camera: PinholeCamera, render: RenderResult,
                rng: np.random.Generator) -> Tensor:
        """(H, W) float32 sensor depth (0 = none) of ``render`` (the exact
        render of ``renderer``'s scene through ``camera``), drawn with ``rng``."""
        z = render.depth.numpy().astype(np.float64)
        H, W = z.shape
        keep = np.isfinite(z) & (z >= self.min_depth) & (z <= self.max_depth)
        zf = np.where(np.isfinite(z), z, 0.0)
        # grazing angle between the viewing ray and the normal (normals face the camera)
        _, dirs = camera.rays()
        dirs = dirs.numpy()
        dirs = dirs / np.linalg.norm(dirs, axis=-1, keepdims=True)
        cos = np.abs(np.einsum("hwk,khw->hw", dirs, render.normal.numpy()))
        angle = np.degrees(np.arccos(np.clip(cos, 0, 1)))
        p_graze = np.clip((angle - self.grazing_start_deg)
                          / (self.grazing_end_deg - self.grazing_start_deg), 0, 1)
        keep &= rng.random((H, W)) >= p_graze
        # depth edges: a 4-neighbour more than edge_jump * z away (or nothing there)
        pad = np.pad(zf, 1, mode="edge")
        jump = np.zeros((H, W), bool)
        for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
            jump |= np.abs(pad[dy:dy + H, dx:dx + W] - zf) > self.edge_jump * np.maximum(zf, 1e-6)
        keep &= ~(jump & (rng.random((H, W)) < self.edge_dropout))
        keep &= rng.random((H, W)) >= self.speckle_dropout
        if self.shadow and keep.any():
            keep &= ~self._in_shadow(renderer, camera, z, keep)
        # noise and quantisation in disparity
        bf = self.baseline * self.focal_px
        d = bf / np.where(keep, z, 1.0) + rng.normal(0.0, self.disparity_noise, (H, W))
        if self.disparity_step > 0:
            d = np.round(d / self.disparity_step) * self.disparity_step
        keep &= d > 0
        depth = np.where(keep, bf / np.where(keep, d, 1.0), 0.0)
        depth[(depth < self.min_depth) | (depth > self.max_depth)] = 0.0
        return torch.from_numpy(depth.astype(np.float32))

    def _in_shadow(self, renderer: Renderer, camera: PinholeCamera, z: np.ndarray,
                   keep: np.ndarray) -> np.ndarray:
        """Pixels whose surface point the projector cannot see."""
        origins, dirs = camera.rays()
        pts = (origins + dirs * torch.from_numpy(np.where(keep, z, 0.0))[..., None]).numpy()
        projector = (camera.center + self.baseline * camera.R[0]).numpy()
        sel = np.flatnonzero(keep.ravel())
        to = pts.reshape(-1, 3)[sel] - projector
        dist = np.linalg.norm(to, axis=1)
        rays = np.concatenate([np.broadcast_to(projector, to.shape), to / dist[:, None]], 1)
        hit = renderer.cast(rays.astype(np.float32))["t_hit"]
        # occluded when the projector's ray stops clearly before the point
        blocked = hit < dist - (0.01 + 2e-3 * dist)
        out = np.zeros(z.size, bool)
        out[sel] = blocked
        return out.reshape(z.shape)
