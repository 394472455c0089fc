"""Seeded HCI-format light-field scenes of procedural rooms, split into a fixed
benchmark set and training seeds.

``BENCHMARK_SEEDS`` are the rooms every depth-estimation method in geodl is
evaluated on; training draws from ``training_seeds`` (0 .. 8999), which never
meets them (benchmark seeds start at 9000), so the split holds by
construction. Each scene is ``geodl.datasets.render_hci_scene(seed)``: 9 x 9
views of 512 x 512 px (3 x 3 rays per pixel), disparities within about [-3, 3] px, block-median
ground truth and evaluation masks (optionally the 10x ground truth as well).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from geodl.datasets.rooms.scene import ROOM_SUPERSAMPLE, render_hci_scene, scene_name
from geodl.lightfield import write_hci_scene

if TYPE_CHECKING:
    from geodl.structures import LightField

#: the rooms kept for evaluation (never trained on)
BENCHMARK_SEEDS: tuple[int, ...] = tuple(range(9000, 9008))
TRAINING_SEED_LIMIT = 9000


def training_seeds(n: int, offset: int = 0) -> list[int]:
    """``n`` consecutive training seeds from ``offset``; never a benchmark seed."""
    if n < 0 or offset < 0 or offset + n > TRAINING_SEED_LIMIT:
        raise ValueError(f"training seeds: expected 0 <= offset and offset + n <= "
                         f"{TRAINING_SEED_LIMIT}, got offset={offset}, n={n}")
    return list(range(offset, offset + n))


def write_room_scenes(out_dir: str | Path, seeds: Iterable[int], size: int = 512,
                      grid: int = 9, supersample: int = ROOM_SUPERSAMPLE, highres: bool = False,
                      overwrite: bool = False) -> Iterator[tuple[Path, LightField, float]]:
    """Render room ``seed`` for each seed and write it as an HCI scene folder
    ``out_dir/geodl_room_<seed>``; yields (folder, light field, seconds taken).
    Existing scene folders are refused before any rendering unless ``overwrite``."""
    def render(seed: int) -> LightField:
        return render_hci_scene(seed, size=size, grid=grid, supersample=supersample,
                                highres=highres, progress=False)

    return write_scenes(out_dir, seeds, render, scene_name, overwrite)


def write_scenes(out_dir: str | Path, seeds: Iterable[int], render: Callable[[int], LightField],
                 name: Callable[[int], str], overwrite: bool = False
                 ) -> Iterator[tuple[Path, LightField, float]]:
    """``render(seed)`` for each seed written as the HCI scene folder
    ``out_dir/name(seed)``; yields (folder, light field, seconds taken).
    Existing scene folders are refused before any rendering unless ``overwrite``."""
    seeds = list(seeds)
    if not overwrite:
        for seed in seeds:
            folder = Path(out_dir) / name(seed)
            if folder.is_dir() and any(folder.iterdir()):
                raise FileExistsError(f"{folder}: not empty (overwrite=True / --force "
                                      "replaces its scene files)")
    for seed in seeds:
        t0 = time.perf_counter()
        lf = render(seed)
        folder = write_hci_scene(Path(out_dir) / name(seed), lf, scene=name(seed),
                                 overwrite=overwrite)
        yield folder, lf, time.perf_counter() - t0


def cached_room_scenes(cache: str | Path, seeds: Iterable[int], highres: bool = False,
                       size: int = 512, grid: int = 9,
                       supersample: int = ROOM_SUPERSAMPLE) -> list[Path]:
    """The scene folders of rooms ``seeds``,
    ``cache/<grid>x<grid>_<size>px_ss<supersample>/geodl_room_<seed>``,
    rendering (and printing) the missing ones first (with ``highres``, also
    those without the 10x ground truth). The folder's name holds
    how its rooms were rendered, so renders made another way (another size,
    one ray per pixel) are never mistaken for these."""
    seeds = list(seeds)
    root = Path(cache) / f"{grid}x{grid}_{size}px_ss{supersample}"
    folders = [root / scene_name(s) for s in seeds]
    wanted = ["parameters.cfg"] + (["gt_disp_highres.pfm"] if highres else [])
    missing = [s for s, f in zip(seeds, folders) if not all((f / w).exists() for w in wanted)]
    for path, _, seconds in write_room_scenes(root, missing, size, grid, supersample, highres,
                                              overwrite=True):
        print(f"rendered {path.name} ({seconds:.0f} s)", flush=True)
    return folders
