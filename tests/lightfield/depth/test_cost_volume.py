"""cost_volume on scenes made to break it: an occluding edge (no foreground
fattening) and sensor noise (a plane still recovered)."""
import torch
import torch.nn.functional as F

from geodl.lightfield.depth import estimate_disparity
from geodl.structures import LightField
from tests.helpers import interior, lightfield_of, plane_lightfield, smooth_texture


def _sample(tex: torch.Tensor, x: torch.Tensor, y: torch.Tensor, extent: float) -> torch.Tensor:
    """The texture spread over [-extent, extent]^2 px, sampled bicubically at (x, y)."""
    grid = torch.stack([x / extent, y / extent], -1)[None].float()
    return F.grid_sample(tex, grid, mode="bicubic", align_corners=True)[0, 0]


def square_over_plane(size: int = 80, half: int = 16, front: float = 1.5, back: float = -0.5,
                      n: int = 9) -> tuple[LightField, torch.Tensor]:
    """A textured square of disparity ``front`` (centre view: |x|, |y| <= ``half``
    px around the image centre) in front of a textured plane of disparity
    ``back``. View (r, c) pixel (u, v) sees the square's point
    (u + front dc, v + front dr) when it lies inside the square, else the
    plane's point (u + back dc, v + back dr) (dr, dc: offsets from the centre
    view). Returns the light field and the centre view's disparity."""
    fg, bg = smooth_texture(1, 9), smooth_texture(2, 41)  # about 4 px per texture cell in both
    m, mid = n // 2, (size - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64) - mid,
                            torch.arange(size, dtype=torch.float64) - mid, indexing="ij")
    views = torch.empty(n, n, size, size)
    for r in range(n):
        for c in range(n):
            fx, fy = xs + front * (c - m), ys + front * (r - m)
            inside = (fx.abs() <= half) & (fy.abs() <= half)
            bx, by = xs + back * (c - m), ys + back * (r - m)
            views[r, c] = torch.where(inside, _sample(fg, fx, fy, half),
                                      0.2 + 0.6 * _sample(bg, bx, by, size))
    disp = torch.where((xs.abs() <= half) & (ys.abs() <= half), front, back).float()
    return lightfield_of(views.clamp(0, 1)), disp


def test_an_occluding_square_keeps_its_edge():
    lf, gt = square_over_plane()
    est, _ = estimate_disparity(lf, "cost_volume", disp_range=(-1.0, 2.0))
    # pixels within 3 px of the square's contour (both sides), inside the border
    inside = (gt == 1.5).float()[None, None]
    grown = F.max_pool2d(inside, 7, 1, 3)[0, 0] > 0
    shrunk = -F.max_pool2d(-inside, 7, 1, 3)[0, 0] > 0
    band = grown & ~shrunk
    bad = (est - gt).abs() > 0.07
    assert band.sum() > 300
    assert float(bad[band].float().mean()) <= 0.10
    # and away from the contour the answer is right nearly everywhere
    far = ~grown | shrunk
    far[:10] = far[-10:] = far[:, :10] = far[:, -10:] = False
    assert float(bad[far].float().mean()) <= 0.02


def test_noisy_views_still_recover_a_plane():
    lf, gt = plane_lightfield(size=64, a=0.8, seed=5)
    g = torch.Generator().manual_seed(0)
    noisy = (lf.views + 0.02 * torch.randn(lf.views.shape, generator=g)).clamp(0, 1)
    lf = LightField(noisy, lf.rig.camera, 0.01, 1.0)
    est, _ = estimate_disparity(lf, "cost_volume", disp_range=(-2.0, 2.0))
    err = interior((est - gt).abs(), 10)
    assert float(err.median()) < 0.03
    assert float((err > 0.07).float().mean()) < 0.05


def test_half_grids_with_two_lines_are_the_four_halves():
    from geodl.lightfield.depth.cost_volume import HALVES, half_grids

    offsets = [(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3)]
    member = half_grids(offsets, 2)
    want = torch.tensor([[HALVES[h](dr, dc) for h in (0, 1, 2, 3)] for dr, dc in offsets])
    # lines at 0 and 90 degrees: (dc <= 0, dc >= 0), (dr <= 0, dr >= 0)
    assert torch.equal(member, want)
    # four lines: the diagonal halves too; every view lies in at least 4 of the 8
    diag = half_grids(offsets, 4)
    assert diag.shape == (25, 8) and bool((diag.sum(1) >= 4).all())
    assert bool(diag[offsets.index((1, 1)), 2]) is False  # dc + dr <= 0 leaves (1, 1) out
