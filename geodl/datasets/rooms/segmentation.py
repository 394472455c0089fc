"""Reconstructed room meshes with per-vertex semantic labels, cached on disk.

A sample is one room ``seed``: a mesh of the room as a reconstruction
pipeline gives it (``source``), and each vertex's class among
:data:`~geodl.datasets.rooms.labels.CLASSES` (floor, wall, ceiling,
furniture) or ``IGNORE_INDEX`` (-1), transferred from the room's ground truth
(``make_room(seed)``) by nearest surface (:mod:`geodl.datasets.rooms.labels`).

Sources:
    ``"standin"``: :func:`~geodl.datasets.rooms.standin.standin_room_mesh`
        (marching cubes of the distance to the scene; no cameras, no depth
        estimation): what the segmentation code runs on when no
        reconstructions exist. Not a reconstruction.
    any ``geodl.recon.reconstruct_room`` method (``"ground_truth"``,
        ``"cost_volume"``, ...): ``captures`` light-field captures of the room
        (``geodl.datasets.rooms.lightfield_captures.render_room_captures``, ``size`` px,
        ``grid`` x ``grid`` views) fused at ``voxel`` metres.

Training rooms come from :func:`~geodl.datasets.training_seeds`, test rooms
from :data:`~geodl.datasets.BENCHMARK_SEEDS` (see :func:`segmentation_splits`).
Each room is built once and stored as ``<root>/<config>/room_<seed>.pt``
(tensors only, read with ``weights_only=True``; written to a temporary
sibling and renamed), so a second run only loads.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import KW_ONLY, dataclass, field, replace
from pathlib import Path
from typing import Iterable

import torch
from torch import Tensor

from geodl.datasets.rooms.labels import CLASSES, DEFAULT_TOLERANCE, room_labels
from geodl.datasets.rooms.scene import scene_ground_truth
from geodl.datasets.rooms.scene_sets import BENCHMARK_SEEDS, training_seeds
from geodl.datasets.rooms.standin import clean_mesh, cluster_vertices, standin_room_mesh
from geodl.io.atomic import atomic_path
from geodl.render import make_room
from geodl.structures import Mesh

DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "datasets" / "cache" / "room_segmentation"


@dataclass(frozen=True)
class RoomMeshConfig:
    """How the room meshes are made (part of the cache key).

    Attributes:
        source: ``"standin"`` or a ``reconstruct_room`` method.
        voxel: TSDF voxel (or the stand-in's marching-cubes step), metres.
        captures: light-field captures per room (reconstructions only).
        size: their view size in pixels (reconstructions only).
        grid: their views per side (reconstructions only).
        tolerance: label transfer distance, metres (beyond: ignore).
        noise: the stand-in's vertex noise, metres.
        cluster: when set, the mesh is coarsened by vertex clustering with
            cells of this many metres (``standin.cluster_vertices``)
            and labelled anew; derived from the cached full mesh.
    """

    source: str = "standin"
    voxel: float = 0.08
    captures: int = 4
    size: int = 256
    grid: int = 5
    tolerance: float = DEFAULT_TOLERANCE
    _: KW_ONLY  # the stand-in's noise and the coarsening only by name
    noise: float = 0.005
    cluster: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source:
            raise ValueError(f"source: expected 'standin' or a reconstruct_room method, "
                             f"got {self.source!r}")
        for name in ("voxel", "tolerance"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v > 0):
                raise ValueError(f"{name}: expected a positive number, got {v!r}")
        if self.cluster is not None and not (isinstance(self.cluster, (int, float))
                                             and self.cluster > 0):
            raise ValueError(f"cluster: expected None or a positive number, got {self.cluster!r}")
        for name in ("captures", "size", "grid"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name}: expected a positive int, got {v!r}")

    @property
    def key(self) -> str:
        """The cache folder name."""
        tail = "" if self.cluster is None else f"_k{self.cluster:g}"
        if self.source == "standin":
            return f"standin_v{self.voxel:g}_n{self.noise:g}_t{self.tolerance:g}{tail}"
        return (f"{self.source}_v{self.voxel:g}_c{self.captures}_s{self.size}_g{self.grid}"
                f"_t{self.tolerance:g}{tail}")


@dataclass
class RoomSample:
    """One labelled room mesh: ``labels`` (V,) long in 0..3 or -1."""

    seed: int
    mesh: Mesh
    labels: Tensor
    info: dict = field(default_factory=dict)


def room_mesh(seed: int, config: RoomMeshConfig) -> tuple[Mesh, tuple[Mesh, Tensor, dict]]:
    """The (unlabelled) mesh of room ``seed`` that ``config`` describes, and
    the room's ground truth (mesh, per-vertex object ids, id -> name).

    Reconstructions go the way ``geodl reconstruct`` goes: the captures are
    written as HCI folders (``write_room_captures``, into a temporary folder)
    and read back (``load_captures``: poses, lenses and the disparity range
    from each ``parameters.cfg``); the ground truth is their ``room_gt.ply``."""
    if config.source == "standin":
        return (standin_room_mesh(seed, config.voxel, config.noise),
                scene_ground_truth(make_room(seed)))
    # imported here, so the stand-in needs no geodl.recon
    from geodl.datasets.rooms.lightfield_captures import write_room_captures
    from geodl.recon import load_captures, load_room_ground_truth, reconstruct_room

    with tempfile.TemporaryDirectory(prefix="geodl_room_") as tmp:
        folder = Path(tmp) / "captures"
        write_room_captures(folder, seed, captures=config.captures, size=config.size,
                            grid=config.grid, progress=False)
        captures = load_captures(folder, progress=False)
        gt = load_room_ground_truth(folder)
    mesh = reconstruct_room(captures, method=config.source, voxel_size=config.voxel,
                            progress=False).mesh
    return clean_mesh(mesh.verts64.numpy(), mesh.faces.numpy()), gt


def build_room_sample(seed: int, config: RoomMeshConfig = RoomMeshConfig()) -> RoomSample:
    """Build room ``seed``'s mesh and transfer its labels (no cache)."""
    t0 = time.perf_counter()
    mesh, (gt_mesh, gt_ids, names) = room_mesh(seed, replace(config, cluster=None))
    if config.cluster is not None:
        mesh = cluster_vertices(mesh, config.cluster)
    t1 = time.perf_counter()
    labels = room_labels(mesh.verts64, gt_mesh, gt_ids, names, config.tolerance)
    info = {"seed": seed, "mesh_seconds": t1 - t0, "label_seconds": time.perf_counter() - t1,
            "config": config.__dict__.copy()}
    return RoomSample(seed, mesh, labels, info)


def _save(path: Path, s: RoomSample) -> None:
    with atomic_path(path) as tmp:
        torch.save({"verts": s.mesh.verts64, "faces": s.mesh.faces, "labels": s.labels,
                    "info": json.dumps(s.info)}, tmp)


def _load(path: Path, seed: int) -> RoomSample:
    d = torch.load(path, weights_only=True)
    return RoomSample(seed, Mesh(d["verts"], d["faces"]), d["labels"], json.loads(d["info"]))


class RoomSegmentation:
    """Labelled room meshes of ``seeds``, built on first use and cached.

    Args:
        seeds: room seeds.
        config: how the meshes are made (:class:`RoomMeshConfig`).
        root: cache folder (default ``datasets/cache/room_segmentation`` in the
            repository, git-ignored); ``None`` keeps everything in memory.
        progress: tqdm bar while building (default: on a terminal).
        skip_failed: a room whose captures cannot be placed (the capture
            recipe's ``RuntimeError``: no clear viewpoint) is left out and
            listed in ``skipped`` (seed, message), instead of raising.
        limit: stop once this many rooms are in (None: all ``seeds``).

    ``dataset[i]`` is a :class:`RoomSample`, ``dataset.seeds`` the seeds of
    the rooms in it; ``dataset.build_seconds`` the time spent building (0
    when everything came from the cache).
    """

    def __init__(self, seeds: Iterable[int], config: RoomMeshConfig = RoomMeshConfig(),
                 root: str | Path | None = DEFAULT_ROOT, progress: bool | None = None,
                 skip_failed: bool = False, limit: int | None = None) -> None:
        from tqdm.auto import tqdm

        candidates = [int(s) for s in seeds]
        if len(set(candidates)) != len(candidates):
            raise ValueError(f"seeds: repeated seeds in {candidates}")
        self.config = config
        self.folder = None if root is None else Path(root) / config.key
        self.samples: list[RoomSample] = []
        self.skipped: list[tuple[int, str]] = []
        self.build_seconds = 0.0
        want = len(candidates) if limit is None else limit
        bar = tqdm(total=want, desc=f"rooms ({config.source})", unit="room",
                   disable=None if progress is None else not progress)
        for seed in candidates:
            if len(self.samples) >= want:
                break
            path = None if self.folder is None else self.folder / f"room_{seed:04d}.pt"
            if path is not None and path.exists():
                self.samples.append(_load(path, seed))
                bar.update()
                continue
            t0 = time.perf_counter()
            try:
                s = self._coarsened(seed, root) if config.cluster is not None \
                    else build_room_sample(seed, config)
            except RuntimeError as err:
                if not skip_failed:
                    raise
                self.skipped.append((seed, str(err)))
                continue
            finally:
                self.build_seconds += time.perf_counter() - t0
            if path is not None:
                _save(path, s)
            self.samples.append(s)
            bar.update()
        bar.close()
        self.seeds = [s.seed for s in self.samples]

    def _coarsened(self, seed: int, root: str | Path | None) -> RoomSample:
        """Room ``seed`` coarsened from its full mesh (cached or built) and
        labelled anew against the ground truth of ``make_room(seed)`` (the
        same scene as a captures folder's ``room_gt.ply``)."""
        config = self.config
        full = RoomSegmentation([seed], replace(config, cluster=None), root, progress=False)[0]
        t0 = time.perf_counter()
        mesh = cluster_vertices(full.mesh, config.cluster)
        gt_mesh, gt_ids, names = scene_ground_truth(make_room(seed))
        labels = room_labels(mesh.verts64, gt_mesh, gt_ids, names, config.tolerance)
        info = dict(full.info, config=config.__dict__.copy(),
                    cluster_seconds=time.perf_counter() - t0)
        return RoomSample(seed, mesh, labels, info)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> RoomSample:
        return self.samples[i]

    def class_counts(self) -> Tensor:
        """(4,) vertices per class over all rooms (ignored vertices not counted)."""
        out = torch.zeros(len(CLASSES), dtype=torch.long)
        for s in self.samples:
            out += torch.bincount(s.labels[s.labels >= 0], minlength=len(CLASSES))
        return out


def segmentation_splits(n_train: int, config: RoomMeshConfig = RoomMeshConfig(),
                        n_test: int | None = None, root: str | Path | None = DEFAULT_ROOT,
                        progress: bool | None = None
                        ) -> tuple[RoomSegmentation, RoomSegmentation]:
    """``(train, test)``: ``n_train`` rooms from ``training_seeds`` (in order,
    passing over rooms whose captures cannot be placed) and the first
    ``n_test`` (default all 8) of ``BENCHMARK_SEEDS`` (a failing one is
    skipped and listed in ``test.skipped``)."""
    n_test = len(BENCHMARK_SEEDS) if n_test is None else n_test
    if not 1 <= n_test <= len(BENCHMARK_SEEDS):
        raise ValueError(f"n_test: expected 1..{len(BENCHMARK_SEEDS)}, got {n_test}")
    if not (isinstance(n_train, int) and n_train >= 1):
        raise ValueError(f"n_train: expected a positive int, got {n_train!r}")
    train = RoomSegmentation(training_seeds(2 * n_train + 4), config, root, progress,
                             skip_failed=True, limit=n_train)
    test = RoomSegmentation(BENCHMARK_SEEDS[:n_test], config, root, progress, skip_failed=True)
    return train, test
