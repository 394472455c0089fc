"""Semi-global aggregation: the recursion by hand, and what it is for."""
import pytest
import torch

from geodl.lightfield.depth.sgm import semi_global_aggregation


def _path(costs: list[list[float]], guide: list[float], p1: float, p2: float, gamma: float
          ) -> list[list[float]]:
    """Hirschmüller's recursion along one scanline, first to last, in plain Python."""
    out = [costs[0]]
    for i in range(1, len(costs)):
        penalty = max(p1, p2 / (1 + abs(guide[i] - guide[i - 1]) / gamma))
        prev, low = out[-1], min(out[-1])
        row = []
        for d in range(len(prev)):
            options = [prev[d], low + penalty]
            if d > 0:
                options.append(prev[d - 1] + p1)
            if d < len(prev) - 1:
                options.append(prev[d + 1] + p1)
            row.append(costs[i][d] + min(options) - low)
        out.append(row)
    return out


def test_matches_the_recursion_written_out():
    torch.manual_seed(0)
    D, H, W, p1, p2, gamma = 5, 4, 6, 0.1, 0.5, 0.05
    cost = torch.rand(D, H, W, dtype=torch.float64)
    guide = torch.rand(H, W, dtype=torch.float64)
    expected = torch.zeros_like(cost)
    lines = [(y, slice(None)) for y in range(H)] + [(slice(None), x) for x in range(W)]
    for index in lines:
        line = cost[(slice(None), *index)].T.tolist()  # (length, D)
        g = guide[index].tolist()
        forward = _path(line, g, p1, p2, gamma)
        backward = _path(line[::-1], g[::-1], p1, p2, gamma)[::-1]
        both = torch.tensor(forward, dtype=torch.float64) + torch.tensor(backward, dtype=torch.float64)
        expected[(slice(None), *index)] += both.T
    got = semi_global_aggregation(cost, guide, p1, p2, gamma)
    assert torch.allclose(got, expected / 4, atol=1e-12)

    # 8 paths: the diagonal lines (down-right and down-left), each both ways
    for dx in (1, -1):
        starts = [(0, x) for x in range(W)] + [(y, 0 if dx > 0 else W - 1) for y in range(1, H)]
        for y0, x0 in starts:
            pixels = [(y0 + k, x0 + dx * k) for k in range(max(H, W))
                      if y0 + k < H and 0 <= x0 + dx * k < W]
            line = [cost[:, y, x].tolist() for y, x in pixels]
            g = [float(guide[y, x]) for y, x in pixels]
            forward = _path(line, g, p1, p2, gamma)
            backward = _path(line[::-1], g[::-1], p1, p2, gamma)[::-1]
            for k, (y, x) in enumerate(pixels):
                expected[:, y, x] += torch.tensor(forward[k], dtype=torch.float64)
                expected[:, y, x] += torch.tensor(backward[k], dtype=torch.float64)
    got = semi_global_aggregation(cost, guide, p1, p2, gamma, paths=8)
    assert torch.allclose(got, expected / 8, atol=1e-12)


def test_overrules_a_wrong_pixel_and_keeps_an_edge_the_guide_shows():
    """True labels: 2 left of x = 8, 6 right of it, where the guide steps too.
    One weakly textured pixel prefers label 0 by less than P2 (cost 0 there,
    0.004 elsewhere); its neighbours outvote it, and the edge stays."""
    D, H, W = 9, 12, 16
    truth = torch.full((H, W), 2)
    truth[:, 8:] = 6
    labels = torch.arange(D)[:, None, None]
    cost = 0.01 * (labels - truth).abs().float()
    cost[:, 5, 3] = 0.004  # the wrong pixel: best label 0
    cost[0, 5, 3] = 0.0
    guide = torch.zeros(H, W)
    guide[:, 8:] = 1.0
    assert cost.argmin(0)[5, 3] == 0
    out = semi_global_aggregation(cost, guide, 0.002, 0.01)
    assert torch.equal(out.argmin(0), truth)


@pytest.mark.parametrize("kwargs, message", [
    ({"cost": torch.zeros(4, 4)}, "cost"),
    ({"guide": torch.zeros(3, 3)}, "guide"),
    ({"p1": 0.1, "p2": 0.05}, "p1 <= p2"),
    ({"gamma": 0.0}, "gamma"),
    ({"paths": 6}, "paths"),
])
def test_bad_input_is_named(kwargs, message):
    args = {"cost": torch.zeros(3, 4, 4), "guide": torch.zeros(4, 4), **kwargs}
    with pytest.raises(ValueError, match=message):
        semi_global_aggregation(**args)
