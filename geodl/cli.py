"""The ``geodl`` command.

    geodl demo [--out DIR]          a tour of the library, with pictures
    geodl spectrum MESH [-k K]      Laplace-Beltrami eigenvalues (+ PNG)
    geodl check MESH                mesh defects report
    geodl render-lightfield OUT     HCI-format light-field scenes of procedural rooms
    geodl evaluate-lightfield SUB SCENES   benchmark metrics of a submission folder
    geodl train-depth --model M --out DIR   train a learned disparity network
    geodl info                      versions of geodl and its back-ends

MESH is a file (PLY, OBJ, OFF, STL) or a recipe: ``icosphere:LEVEL``,
``torus``, ``grid:NXxNY``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def load_mesh(spec: str):
    """A mesh from a path or a recipe name (see module docstring)."""
    from geodl.structures import Mesh

    name, _, arg = spec.partition(":")
    if name == "icosphere":
        return Mesh.icosphere(int(arg or 3))
    if name == "torus":
        return Mesh.torus()
    if name == "grid":
        nx_, _, ny = (arg or "16x16").partition("x")
        return Mesh.grid(int(nx_), int(ny or nx_))
    path = Path(spec)
    if not path.exists():
        raise SystemExit(f"geodl: {spec!r} is neither a mesh file nor a recipe "
                         "(icosphere:LEVEL, torus, grid:NXxNY)")
    return Mesh.load(path)


def cmd_spectrum(args: argparse.Namespace) -> int:
    from geodl.viz import render_mesh_grid

    mesh = load_mesh(args.mesh)
    t0 = time.perf_counter()
    evals, evecs = mesh.eigen(args.k, kind=args.laplacian, cache_dir=None if args.cache else False)
    dt = time.perf_counter() - t0
    print(f"{mesh}: {args.k} smallest eigenvalues of L phi = lambda M phi "
          f"({args.laplacian} Laplacian, {dt:.2f} s)")
    for i, w in enumerate(evals.tolist()):
        print(f"  lambda_{i:<3d} = {w:.6f}")
    if args.png:
        n = min(8, args.k - 1)
        render_mesh_grid(mesh, [evecs[:, i] for i in range(1, n + 1)],
                         [f"phi_{i}  (lambda={evals[i]:.3g})" for i in range(1, n + 1)], args.png)
        print(f"wrote {args.png}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    report = load_mesh(args.mesh).check()
    print(report)
    return 0 if report.ok else 1


def cmd_info(args: argparse.Namespace) -> int:
    import numpy
    import scipy
    import torch
    import torch_geometric

    import geodl
    from geodl._optional import open3d, trimesh

    for name, ver in [("geodl", geodl.__version__), ("torch", torch.__version__),
                      ("torch_geometric", torch_geometric.__version__),
                      ("open3d", open3d().__version__), ("trimesh", trimesh().__version__),
                      ("numpy", numpy.__version__), ("scipy", scipy.__version__)]:
        print(f"{name:16s} {ver}")
    return 0


def cmd_render_lightfield(args: argparse.Namespace) -> int:
    from geodl.datasets import BENCHMARK_SEEDS, write_room_scenes
    from geodl.structures import GroundTruth, LightField

    seeds = BENCHMARK_SEEDS if args.benchmark else range(args.seed, args.seed + args.scenes)
    light_fields = []
    for folder, lf, seconds in write_room_scenes(args.out_dir, seeds, args.size, args.grid,
                                                 args.supersample, args.highres):
        d = lf.disparity[lf.disparity.isfinite()]
        print(f"{folder}: {args.grid}x{args.grid} views of {args.size}x{args.size}, disparity "
              f"[{float(d.min()):.2f}, {float(d.max()):.2f}] px, {seconds:.1f} s")
        # keep only what the contact sheet needs: the centre view and the disparity
        light_fields.append(LightField(lf.center_view[None, None], lf.camera, lf.baseline,
                                       lf.focus_distance,
                                       ground_truth=GroundTruth(disparity=lf.disparity),
                                       meta={"scene": folder.name}))
    if args.contact_sheet:
        from geodl.viz import save_contact_sheet

        print(f"contact sheet: {save_contact_sheet(light_fields, args.contact_sheet)}")
    return 0


def cmd_evaluate_lightfield(args: argparse.Namespace) -> int:
    import json
    import warnings

    from geodl.lightfield.benchmark import evaluate_submission, format_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of a metric some scenes lack
        results = evaluate_submission(args.submission, args.scenes, args.highres)
        print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
        print(f"wrote {args.json}")
    return 0


def cmd_train_depth(args: argparse.Namespace) -> int:
    import json

    from geodl.lightfield.depth.training import DEFAULT_CONFIGS, LARGE_CONFIGS, TrainConfig, train

    arch = dict((LARGE_CONFIGS if args.large else DEFAULT_CONFIGS)[args.model])
    if args.arch:
        try:
            arch.update(json.loads(args.arch))
        except json.JSONDecodeError as exc:
            raise SystemExit(f"geodl: --arch: not JSON ({exc})") from None
    cfg = TrainConfig(model=args.model, rooms=args.rooms, val_rooms=args.val_rooms,
                      size=args.size, steps=args.steps, batch=args.batch, patch=args.patch,
                      lr=args.lr, seed=args.seed, val_every=args.val_every,
                      ckpt_every=args.val_every, arch=arch)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        train(cfg, args.out, args.cache, resume=args.resume)
    except FileExistsError as exc:
        raise SystemExit(f"geodl: {exc}") from None
    import torch.distributed as dist

    rank = dist.get_rank() if dist.is_initialized() else 0
    if dist.is_initialized():
        dist.destroy_process_group()
    if rank == 0:
        print(f"weights: {Path(args.out) / 'model.pt'} (+ model.json); use them with "
              f"estimate_disparity(lf, method={args.model!r}, checkpoint=...)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from geodl.demo import run_demo

    run_demo(Path(args.out))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="geodl", description="geodl: geometric deep learning on graphs, meshes, point "
        "clouds and light fields.", epilog="MESH is a file (PLY/OBJ/OFF/STL) or a recipe: "
        "icosphere:LEVEL, torus, grid:NXxNY.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    d = sub.add_parser("demo", help="a tour of the library: spectra, descriptors, geodesics, "
                       "kNN graphs, pooling, light fields, jets; prints figures and writes PNGs")
    d.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("spectrum", help="Laplace-Beltrami eigenvalues of a mesh")
    s.add_argument("mesh", metavar="MESH")
    s.add_argument("-k", type=int, default=20, help="number of eigenpairs (default 20)")
    s.add_argument("--laplacian", choices=["cotan", "intrinsic_delaunay"], default="cotan")
    s.add_argument("--png", help="write the first eigenfunctions to this PNG")
    s.add_argument("--no-cache", dest="cache", action="store_false",
                   help="do not read or write the on-disk eigenbasis cache")
    s.set_defaults(func=cmd_spectrum)

    c = sub.add_parser("check", help="report degenerate/duplicate faces and non-manifold "
                       "edges and vertices (exit 1 if any)")
    c.add_argument("mesh", metavar="MESH")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("render-lightfield", help="render HCI-benchmark-format light-field "
                       "scenes of seeded procedural rooms")
    r.add_argument("out_dir", metavar="OUT_DIR")
    r.add_argument("--seed", type=int, default=0, help="seed of the first scene (default 0)")
    r.add_argument("--scenes", type=int, default=1, help="number of scenes (seeds seed, seed+1, ...)")
    r.add_argument("--size", type=int, default=512, help="image side in pixels (default 512)")
    r.add_argument("--grid", type=int, default=9, help="views per side (default 9)")
    r.add_argument("--supersample", type=int, default=1, help="samples per pixel side")
    r.add_argument("--benchmark", action="store_true",
                   help="write the fixed benchmark set (seeds 9000-9007; training uses "
                        "seeds below 9000) instead of --seed/--scenes")
    r.add_argument("--highres", action="store_true",
                   help="also write the 10x ground truth and masks (gt_*_highres.pfm, "
                        "about 100 MB per map at 512 px), needed for BadPix on discontinuities")
    r.add_argument("--contact-sheet", metavar="PNG",
                   help="also save a PNG of the centre views and disparities")
    r.set_defaults(func=cmd_render_lightfield)

    e = sub.add_parser("evaluate-lightfield", help="score a benchmark submission (disp_maps/, "
                       "runtimes/) against scene folders with ground truth")
    e.add_argument("submission", metavar="SUBMISSION", help="folder with disp_maps/<scene>.pfm")
    e.add_argument("scenes", metavar="SCENES", help="folder of scene folders (<scene>/)")
    e.add_argument("--highres", action="store_true",
                   help="also BadPix on discontinuities from the 10x ground truth")
    e.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    e.set_defaults(func=cmd_evaluate_lightfield)

    t = sub.add_parser("train-depth", help="train the epinet or cost_net disparity network on "
                       "rendered training rooms (runs under torchrun for data parallelism)")
    t.add_argument("--model", choices=["epinet", "cost_net"], required=True)
    t.add_argument("--out", required=True, help="run folder: checkpoints, log.jsonl, model.pt")
    t.add_argument("--rooms", type=int, default=8, help="training rooms (training_seeds)")
    t.add_argument("--val-rooms", type=int, default=1, help="held-out training rooms")
    t.add_argument("--size", type=int, default=512, help="rendered room size in px")
    t.add_argument("--steps", type=int, default=0, help="optimiser steps (0: the model's "
                   "default, 11000 for epinet, 5000 for cost_net)")
    t.add_argument("--batch", type=int, default=0, help="patches per step (0: the model's "
                   "default, 16 for epinet, 8 for cost_net)")
    t.add_argument("--patch", type=int, default=0, help="patch size in px (0: the model's "
                   "default, 32 for epinet, 24 for cost_net)")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--val-every", type=int, default=250, help="validate + checkpoint period")
    t.add_argument("--cache", default="datasets/cache/depth_rooms",
                   help="folder of rendered rooms (reused)")
    t.add_argument("--large", action="store_true", help="the larger GPU configuration")
    t.add_argument("--arch", default="", help='JSON overrides of the architecture, e.g. '
                   '\'{"width": 24}\'')
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.set_defaults(func=cmd_train_depth)

    i = sub.add_parser("info", help="versions of geodl and its back-ends")
    i.set_defaults(func=cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
