"""The centre view of a light field as a coloured point cloud: its depth map
back-projected through its camera."""
from __future__ import annotations

import torch
from torch import Tensor

from geodl.structures import LightField, PointCloud


def center_depth(lf: LightField) -> Tensor | None:
    """The centre view's z-depth: ``lf.depth`` if present, else converted from
    ``lf.disparity`` (``Z = 1 / (d / (b f) + 1/F)``, pixels beyond infinity
    dropped), else None."""
    if lf.depth is not None:
        return lf.depth
    if lf.disparity is None:
        return None
    z = lf.disparity_to_depth(lf.disparity)
    return torch.where(torch.isfinite(z), z, torch.nan)


def center_points(lf: LightField, stride: int = 1) -> tuple[PointCloud, Tensor]:
    """Points ``X = C + Z(u, v) R^T K^{-1} (u, v, 1)`` of every valid pixel of
    the centre view (``PinholeCamera.unproject`` of :func:`center_depth`),
    coloured by the centre view, every ``stride``-th pixel in each direction.

    Returns:
        cloud: the points (world frame) with RGB colours;
        pixels: (N,) flat indices ``i * W + j`` of the pixels used (to pick
        per-pixel fields such as disparity for the same points).

    Raises:
        ValueError: ``lf`` has neither depth nor disparity.
    """
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride: expected a positive int, got {stride!r}")
    depth = center_depth(lf)
    if depth is None:
        raise ValueError("lf: has neither depth nor disparity of the centre view, "
                         "so its points are unknown")
    pts, valid = lf.camera.unproject(depth)
    keep = torch.zeros_like(valid)
    keep[::stride, ::stride] = True
    keep &= valid
    colors = lf.center_view[:3].permute(1, 2, 0).double().clamp(0, 1)
    if colors.shape[-1] == 1:
        colors = colors.expand(-1, -1, 3)
    pixels = keep.flatten().nonzero().flatten()
    return PointCloud(pts[keep], colors[keep]), pixels


def lightfield_layers(lf: LightField, scalar: str | None = None, stride: int = 1,
                      name: str | None = None) -> list:
    """A light field to look at: the centre view's points (coloured by the
    view, or by ``scalar``: ``"depth"`` or ``"disparity"``) and the camera rig.
    Without depth or disparity, the rig alone."""
    from geodl.viz.layer import Layer

    label = name or str(lf.meta.get("scene", "light field"))
    layers = []
    if center_depth(lf) is not None:
        cloud, pixels = center_points(lf, stride)
        fields = {"depth": center_depth(lf), "disparity": lf.disparity}
        if scalar is not None and fields.get(scalar) is None:
            raise ValueError(f"scalar: expected 'depth' or 'disparity' (present in the scene), "
                             f"got {scalar!r}")
        values = None if scalar is None else fields[scalar].flatten()[pixels]
        layers.append(Layer(cloud, name=f"{label}: centre view", scalars=values,
                            scalar_name=scalar))
    elif scalar is not None:
        raise ValueError(f"scalar: {label} has no depth or disparity to colour by")
    U, V = lf.grid_shape
    layers.append(Layer(lf, name=f"{label}: rig ({U}x{V})"))
    return layers
