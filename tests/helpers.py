"""What several test files share (imported as ``tests.helpers``).

- ``REPO``: the repository's root folder.
- Random graphs, two small graphs for batch checks, a small MLP: inputs of the
  graph layers' tests.
- Synthetic light fields of textured planes (fronto-parallel or slanted) for
  the disparity and synthesis tests: view (r, c) pixel (u, v) shows the
  texture at (x, y) = (u + d (c - c0), v + d (r - r0)) with d = d(x, y) the
  plane's disparity at the centre-view point (x, y); ``interior`` crops the
  border where views see past the texture.
- The 2-process gloo runs of the training loops: a free port, the environment
  torchrun would set for one rank, and a run of a training function on two
  ranks.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch_geometric.data import Data

from geodl.structures import LightField, PinholeCamera

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ graphs
def random_graph(n: int, e: int, *parts: str, seed: int = 0, channels: int = 6,
                 edge_dim: int = 3) -> tuple[torch.Tensor, ...]:
    """(edge_index, *parts): ``e`` random directed edges on ``n`` nodes (self-loops
    and repeated edges included), then each of ``parts`` in the order named,
    all drawn from one generator seeded ``seed``: ``"x"``, (n, channels) normal
    features; ``"weight"``, (e,) uniform edge weights; ``"edge_attr"``,
    (e, edge_dim) uniform edge attributes."""
    g = torch.Generator().manual_seed(seed)
    draw = {"x": lambda: torch.randn(n, channels, generator=g),
            "weight": lambda: torch.rand(e, generator=g),
            "edge_attr": lambda: torch.rand(e, edge_dim, generator=g)}
    edge_index = torch.randint(0, n, (2, e), generator=g)
    return (edge_index, *(draw[part]() for part in parts))


def two_graphs(g: torch.Generator, channels: int, edge_dim: int) -> list[Data]:
    """Two small graphs (6 nodes and 3 edges, 4 nodes and 2 edges) with normal
    features and uniform ``edge_attr`` drawn from ``g``: a batch for
    ``assert_batch_consistent``."""
    return [Data(x=torch.randn(6, channels, generator=g), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
                 edge_attr=torch.rand(3, edge_dim, generator=g)),
            Data(x=torch.randn(4, channels, generator=g), edge_index=torch.tensor([[3, 0], [0, 1]]),
                 edge_attr=torch.rand(2, edge_dim, generator=g))]


def mlp(i: int, o: int) -> torch.nn.Module:
    """Linear(i, 8), ReLU, Linear(8, o): the network inside GIN, EdgeConv, NNConv."""
    return torch.nn.Sequential(torch.nn.Linear(i, 8), torch.nn.ReLU(), torch.nn.Linear(8, o))


# ------------------------------------------------------ plane light fields
def smooth_texture(seed: int, cells: int = 24) -> torch.Tensor:
    """(1, 1, cells, cells) random values; sampled bicubically it is a smooth texture."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 1, cells, cells, generator=g)


def plane_views(size: int = 64, n: int = 9, a: float = 1.0, bx: float = 0.0, by: float = 0.0,
                seed: int = 0, cells: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, n, size, size) grey views of the plane d(x, y) = a + bx (x - mid) + by (y - mid)
    and its (size, size) centre disparity."""
    tex = smooth_texture(seed, cells)
    m = n // 2
    mid = (size - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64),
                            torch.arange(size, dtype=torch.float64), indexing="ij")
    views = torch.empty(n, n, size, size)
    margin = 8.0  # texture coordinates span [-margin, size + margin)
    for r in range(n):
        for c in range(n):
            x, y = xs.clone(), ys.clone()
            for _ in range(30):  # x = u + d(x, y) dc, y = v + d(x, y) dr
                d = a + bx * (x - mid) + by * (y - mid)
                x, y = xs + d * (c - m), ys + d * (r - m)
            gx = 2 * (x + margin) / (size + 2 * margin) - 1
            gy = 2 * (y + margin) / (size + 2 * margin) - 1
            grid = torch.stack([gx, gy], -1)[None].float()
            views[r, c] = F.grid_sample(tex, grid, mode="bicubic", align_corners=True)[0, 0]
    disp = (a + bx * (xs - mid) + by * (ys - mid)).float()
    return views.clamp(0, 1), disp


def lightfield_of(views: torch.Tensor) -> LightField:
    """The light field of (n, n, H, W) grey views (each repeated into three
    channels) or (n, n, 3, H, W) colour views: a 60 degree pinhole at the
    origin looking along +z, baseline 0.01, focus distance 1."""
    if views.dim() == 4:
        views = views[:, :, None].expand(-1, -1, 3, -1, -1).contiguous()
    height, width = views.shape[-2:]
    cam = PinholeCamera.look_at((0, 0, 0), (0, 0, 1), up=(0, -1, 0), width=width, height=height,
                                fov_deg=60.0)
    return LightField(views, cam, 0.01, 1.0)


def plane_lightfield(size: int = 64, n: int = 9, **kw) -> tuple[LightField, torch.Tensor]:
    """``plane_views`` (same arguments) as a light field, and the centre disparity."""
    views, disp = plane_views(size, n, **kw)
    return lightfield_of(views), disp


def interior(x: torch.Tensor, margin: int) -> torch.Tensor:
    """A (H, W) map without its ``margin`` px border."""
    return x[margin:-margin, margin:-margin]


# ------------------------------------------------------ 2-process gloo runs
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_torchrun_rank(rank: int, world: int, port: int) -> None:
    """Set the variables torchrun gives rank ``rank`` of ``world`` (one CPU
    thread each, so two ranks share two cores)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world),
                      RANK=str(rank), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)


def _train_and_save(rank: int, world: int, port: int, out: str,
                    train: Callable[[str], torch.nn.Module]) -> None:
    as_torchrun_rank(rank, world, port)
    model = train(out)
    torch.save(model.state_dict(), Path(out).parent / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def train_on_two_gloo_ranks(train: Callable[[str], torch.nn.Module], tmp_path: Path) -> list[dict]:
    """Run ``train(out)`` (a module-level function: each process unpickles it)
    as ranks 0 and 1 of a gloo group, ``out = tmp_path / "run"``; the state
    dict of the model each rank returns."""
    mp.spawn(_train_and_save, args=(2, free_port(), str(tmp_path / "run"), train), nprocs=2,
             join=True)
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]


def assert_ranks_agree_and_trained(states: list[dict], init: dict, run: Path) -> None:
    """Both ranks end with identical weights, which differ from ``init``, and the
    run folder holds the model and its log."""
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k
    assert any(not torch.equal(states[0][k], init[k]) for k in init)  # it did train
    assert (run / "model.pt").exists() and (run / "log.jsonl").exists()
