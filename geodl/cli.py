"""The ``geodl`` command.

    geodl demo [--out DIR]          captures -> depth -> room mesh, then a tour, with pictures
    geodl spectrum MESH [-k K]      Laplace-Beltrami eigenvalues (+ PNG)
    geodl check MESH                mesh defects report
    geodl render-lightfield OUT     HCI-format light-field scenes of procedural rooms
    geodl render-captures OUT --seed N --captures K   K light-field captures of one room
    geodl render-captures OUT --kind rgbd|photos --seed N   a hand-held RGB-D scan / posed photos of one room
    geodl reconstruct CAPTURES --out room.ply   one room mesh from captures (light fields, RGB-D, photos)
    geodl evaluate-lightfield SUB SCENES   benchmark metrics of a submission folder
    geodl depth SCENE_DIR --out D.pfm  disparity of a scene (or a submission of many)
    geodl train-depth --model M --out DIR   train a learned disparity network
    geodl train-synthesis --out DIR  train the learned view-synthesis network
    geodl train-photo-filter --out DIR   train the learned filter of multi-view stereo depth
    geodl synthesize SCENE_DIR --from corners --out DIR   novel views from a few views
    geodl view FILE...              an interactive 3D viewer (window, or HTML offline)
    geodl info                      versions of geodl and its back-ends

MESH is a file (PLY, OBJ, OFF, STL) or a recipe: ``icosphere:LEVEL``,
``torus``, ``grid:NXxNY``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

#: ``geodl.lightfield.depth.METHODS`` by name: listed here so that ``--help`` and
#: argument checks do not import torch and the models (a test keeps them equal)
DEPTH_METHODS = ("cost_volume", "structure_tensor", "epinet", "cost_net", "refine_net")
#: ``geodl.recon.captures.CAPTURE_KINDS`` and the posed-image methods of
#: ``geodl.recon.reconstruct`` (SENSOR, MVS), spelled out for the same reason
CAPTURE_KINDS = ("lightfield", "7scenes", "tum", "colmap", "transforms")
POSED_METHODS = ("sensor", "mvs")
#: ``geodl.lightfield.synthesis.METHODS`` by name, for the same reason ("learned" is
#: registered by the learned view-synthesis model)
SYNTHESIS_METHODS = ("warp", "mpi", "nearest", "learned")


def _physical_memory() -> int | None:
    """Bytes of RAM of this machine (``None`` where the OS does not say)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _refuse_beyond_memory(need: float, what: str, option: str) -> None:
    """``MemoryError``-free refusal of a request that cannot fit in RAM."""
    have = _physical_memory()
    if have is not None and need > have:
        raise ValueError(f"{option}: {what} needs about {need / 2**30:,.0f} GiB of memory; "
                         f"this machine has {have / 2**30:,.0f} GiB")


def _spectrum_memory(num_verts: int) -> float:
    """Peak bytes of ``geodl spectrum`` on a mesh of ``num_verts`` vertices: the
    sparse LU's fill grows about as V^1.9 (peak RSS of ``geodl spectrum
    icosphere:L --no-cache`` under /usr/bin/time: 1.0 GB at L=6, 8.6 GB at L=7)."""
    return 0.5e9 + 8.1e9 * (num_verts / 163842) ** 1.9


def load_mesh(spec: str, memory_check: bool = False):
    """A mesh from a path or a recipe name (see module docstring); with
    ``memory_check``, a recipe too large for ``geodl spectrum`` in this
    machine's memory is refused before it is built."""
    from geodl.structures import Mesh

    name, _, arg = spec.partition(":")
    if name not in ("icosphere", "torus", "grid"):
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"MESH: {spec!r} is neither a mesh file nor a recipe "
                             "(icosphere:LEVEL, torus, grid:NXxNY)")
        return Mesh.load(path)
    if name == "torus":
        return Mesh.torus()
    try:
        if name == "icosphere":
            level = int(arg or 3)
            if level < 0:
                raise ValueError(f"expected a subdivision level >= 0, got {level}")
            size = 10 * 4 ** level + 2
        else:
            nx_, _, ny = (arg or "16x16").partition("x")
            nx_, ny = int(nx_), int(ny or nx_)
            size = nx_ * ny
        if memory_check:
            _refuse_beyond_memory(_spectrum_memory(size), f"the spectrum of {spec} "
                                  f"({size:,} vertices)", "MESH")
        return Mesh.icosphere(level) if name == "icosphere" else Mesh.grid(nx_, ny)
    except ValueError as err:
        if str(err).startswith("MESH:"):
            raise
        raise ValueError(f"MESH: bad recipe {spec!r} ({err})") from None


def cmd_spectrum(args: argparse.Namespace) -> int:
    from geodl.viz import render_mesh_grid

    if args.k < 1:
        raise ValueError(f"-k: expected >= 1 eigenpairs, got {args.k}")
    if args.png and args.k < 2:
        raise ValueError("--png: draws eigenfunctions 1.., so it needs -k 2 or more")
    if args.png:
        _check_output(args.png, ".png", "--png")
    mesh = load_mesh(args.mesh, memory_check=True)
    _refuse_beyond_memory(_spectrum_memory(mesh.num_verts),
                          f"the spectrum of {mesh.num_verts:,} vertices", "MESH")
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


def _check_output(path: str, suffix: str, option: str) -> None:
    """Refuse an output file name with the wrong extension or in a missing
    folder before any work starts."""
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise ValueError(f"{option}: expected a {suffix} file, got {path!r}")
    if p.parent != Path("") and not p.parent.is_dir():
        raise FileNotFoundError(f"{option}: folder {p.parent} does not exist")


def _positive(value: int, option: str) -> None:
    if value < 1:
        raise ValueError(f"{option}: expected a positive number, got {value}")


def cmd_render_lightfield(args: argparse.Namespace) -> int:
    from geodl.datasets import BENCHMARK_SEEDS, ROOM_SUPERSAMPLE, write_room_scenes
    from geodl.structures import GroundTruth, LightField

    if args.benchmark and (args.seed is not None or args.scenes is not None):
        raise ValueError("--benchmark: writes the fixed rooms 9000-9007; it takes no --seed "
                         "or --scenes")
    if args.family == "objects" and args.size < 16:
        raise ValueError(f"--size: expected at least 16 px for --family objects, got {args.size}")
    if args.family == "objects" and (args.benchmark or args.highres):
        raise ValueError(f"--family objects: no {'--benchmark' if args.benchmark else '--highres'}"
                         " (the benchmark set and the 10x ground truth are the rooms')")
    if args.supersample is None:
        args.supersample = ROOM_SUPERSAMPLE
    for option in ("size", "grid", "supersample"):
        _positive(getattr(args, option), f"--{option}")
    if args.size < 8:
        raise ValueError(f"--size: expected at least 8 px, got {args.size}")
    if args.grid % 2 == 0:
        raise ValueError(f"--grid: expected an odd number of views (a centre view), got "
                         f"{args.grid}")
    if args.contact_sheet:
        _check_output(args.contact_sheet, ".png", "--contact-sheet")
    seed = 0 if args.seed is None else args.seed
    scenes = 1 if args.scenes is None else args.scenes
    _positive(scenes, "--scenes")
    if seed < 0:
        raise ValueError(f"--seed: expected >= 0, got {seed}")
    _refuse_beyond_memory(args.grid ** 2 * 3 * args.size ** 2 * 4, f"a {args.grid}x{args.grid} "
                          f"light field of {args.size}x{args.size} px", "--size")
    seeds = BENCHMARK_SEEDS if args.benchmark else range(seed, seed + scenes)
    benchmark = sorted(set(seeds) & set(BENCHMARK_SEEDS))
    if args.family == "objects":
        from geodl.datasets.objects import write_objects_scenes

        written = write_objects_scenes(args.out_dir, seeds, args.size, args.grid,
                                       args.supersample, overwrite=args.force)
    else:
        written = write_room_scenes(args.out_dir, seeds, args.size, args.grid, args.supersample,
                                    args.highres, overwrite=args.force)
    if benchmark and not args.benchmark and args.family == "rooms":
        print(f"note: seed{'s' if len(benchmark) > 1 else ''} "
              f"{', '.join(map(str, benchmark))} {'are' if len(benchmark) > 1 else 'is a'} "
              f"benchmark room{'s' if len(benchmark) > 1 else ''} (held out from training; "
              "--benchmark writes the whole set)", file=sys.stderr)
    light_fields = []
    for folder, lf, seconds in written:
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


def _render_photos(args: argparse.Namespace) -> int:
    if args.photos < 6 or args.photos % 3:
        raise ValueError(f"--photos: expected a multiple of 3 (three per viewing direction), at "
                         f"least 6, got {args.photos}")
    if args.seed < 0:
        raise ValueError(f"--seed: expected >= 0, got {args.seed}")
    from geodl.datasets.rooms.photos import write_room_photos

    t0 = time.perf_counter()
    out, photos = write_room_photos(args.out_dir, args.seed, directions=args.photos // 3,
                                    supersample=args.supersample, overwrite=args.force)
    n, _, h, w = photos.images.shape
    print(f"{out}: room {args.seed}, {n} photos of {w}x{h} in images/, their cameras and "
          f"sparse points in sparse/0 (COLMAP text), room_gt.ply, captures.json "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_render_captures(args: argparse.Namespace) -> int:
    if args.supersample is None:  # photos are anti-aliased as a camera's optics would
        args.supersample = 2 if args.kind == "photos" else 1
    if args.kind == "rgbd":
        return _render_rgbd(args)
    for option, value in (("--frames", args.frames), ("--width", args.width),
                          ("--height", args.height)):
        if value is not None:
            raise ValueError(f"{option}: for --kind rgbd only")
    if args.kind == "photos":
        return _render_photos(args)
    for option in ("captures", "size", "grid", "supersample"):
        _positive(getattr(args, option), f"--{option}")
    if args.size < 8:
        raise ValueError(f"--size: expected at least 8 px, got {args.size}")
    if args.grid % 2 == 0:
        raise ValueError(f"--grid: expected an odd number of views (a centre view), got "
                         f"{args.grid}")
    if args.seed < 0:
        raise ValueError(f"--seed: expected >= 0, got {args.seed}")
    if not 0 < args.fov < 150:
        raise ValueError(f"--fov: expected a horizontal field of view in (0, 150) degrees, "
                         f"got {args.fov}")
    _refuse_beyond_memory(args.grid ** 2 * 3 * args.size ** 2 * 4, f"a {args.grid}x{args.grid} "
                          f"light field of {args.size}x{args.size} px", "--size")
    from geodl.datasets import write_room_captures

    t0 = time.perf_counter()
    out, rc = write_room_captures(args.out_dir, args.seed, args.captures, args.size, args.grid,
                                  args.fov, args.supersample, overwrite=args.force)
    for name, lf in zip(rc.names, rc.captures):
        d = lf.disparity[lf.disparity.isfinite()]
        eye = ", ".join(f"{v:.2f}" for v in lf.camera.center.tolist())
        print(f"{out / name}: {args.grid}x{args.grid} views of {args.size}x{args.size}, eye "
              f"({eye}) m, disparity [{float(d.min()):.2f}, {float(d.max()):.2f}] px")
    print(f"{out}: room {args.seed}, {len(rc.captures)} captures, room_gt.ply, captures.json "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def _render_rgbd(args: argparse.Namespace) -> int:
    """``render-captures --kind rgbd``: a hand-held RGB-D scan of room ``--seed``."""
    from geodl.datasets.rooms.rgbd import DEFAULT_FRAMES

    frames = DEFAULT_FRAMES if args.frames is None else args.frames
    width = 640 if args.width is None else args.width
    height = 480 if args.height is None else args.height
    if frames < 2:
        raise ValueError(f"--frames: expected at least 2, got {frames}")
    if width < 8 or height < 8:
        raise ValueError(f"--width, --height: expected at least 8 px, got {width} x {height}")
    if args.seed < 0:
        raise ValueError(f"--seed: expected >= 0, got {args.seed}")
    from geodl.datasets.rooms.rgbd import write_room_rgbd

    t0 = time.perf_counter()
    out, scan = write_room_rgbd(args.out_dir, args.seed, frames, width, height,
                                overwrite=args.force)
    valid = float((scan.frames.depth > 0).float().mean())
    print(f"{out}: room {args.seed}, {frames} RGB-D frames of {width}x{height} (7-Scenes "
          f"layout, {100 * valid:.1f} % of pixels with depth), room_gt.ply, captures.json "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    out = Path(args.out)
    points = Path(args.points) if args.points else None
    if out.suffix.lower() not in (".ply", ".obj", ".glb"):
        raise ValueError(f"--out: expected a .ply, .obj or .glb file, got {out}")
    if points is not None and points.suffix.lower() not in (".ply", ".pcd", ".xyz"):
        raise ValueError(f"--points: expected a .ply, .pcd or .xyz file, got {points}")
    for path in (out, points):
        if path is not None and path.exists() and not args.force:
            raise FileExistsError(f"{path}: exists (--force replaces it)")
    if args.voxel is not None and not (args.voxel > 0):
        raise ValueError(f"--voxel: expected a positive size in scene units (metres for "
                         f"light fields and RGB-D), got {args.voxel}")
    if args.min_component is not None and not args.min_component >= 0:
        raise ValueError(f"--min-component: expected >= 0 m^2, got {args.min_component}")
    if args.min_confidence is not None and not 0 <= args.min_confidence <= 1:
        raise ValueError(f"--min-confidence: expected in [0, 1], got {args.min_confidence}")
    reader = {k: v for k, v in (("intrinsics", args.intrinsics),
                                ("depth_scale", args.depth_scale),
                                ("depth_max", args.depth_max), ("stride", args.stride))
              if v is not None}
    if reader.get("intrinsics") and len(reader["intrinsics"]) not in (1, 4):
        raise ValueError(f"--intrinsics: expected a preset, a file or FX FY CX CY, got "
                         f"{' '.join(reader['intrinsics'])}")
    if "intrinsics" in reader:
        i = reader["intrinsics"]
        try:
            reader["intrinsics"] = i[0] if len(i) == 1 else [float(v) for v in i]
        except ValueError:
            raise ValueError(f"--intrinsics: FX FY CX CY must be numbers, got {' '.join(i)}"
                             ) from None
    from geodl.recon import load_captures, reconstruct_room, save_mesh
    from geodl.structures import PosedImages

    if args.sfm:
        from geodl.mvs import load_posed_photos, solve_cameras  # pycolmap loads only here

        project = out.parent / f"{out.stem}_colmap"
        model = solve_cameras(args.captures_dir, project, overwrite=args.force)
        captures = load_posed_photos(model, images_dir=args.captures_dir)
    else:
        captures = load_captures(args.captures_dir, kind=args.kind, **reader)
    posed = isinstance(captures, PosedImages)
    if not posed and args.method in POSED_METHODS:
        raise ValueError(f"--method {args.method}: for posed images; these are light-field "
                         "captures")
    if posed and args.method is not None and args.method not in POSED_METHODS:
        raise ValueError(f"--method {args.method}: for light fields; posed images take "
                         f"{' or '.join(POSED_METHODS)}")
    if posed:
        print(f"{args.captures_dir}: {len(captures)} posed images of {captures.image_size[1]}x"
              f"{captures.image_size[0]} ({captures.meta.get('source', args.kind or 'detected')})",
              flush=True)
    result = reconstruct_room(captures, method=args.method, voxel_size=args.voxel,
                              min_confidence=args.min_confidence,
                              min_component_area=args.min_component, planes=not args.no_planes)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_mesh(result.mesh, out, overwrite=args.force)
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    what = f"{len(captures)} frames ({captures.meta.get('layout', 'posed images')})" if posed \
        else f"{len(captures)} captures"
    method = result.meta.get("method", args.method)
    voxel = f", voxel {result.meta['voxel_size']:.3g}" if "voxel_size" in result.meta else ""
    print(f"{what} -> {out}: {result.mesh.num_verts:,} vertices, "
          f"{result.mesh.num_faces:,} faces ({method}{voxel}; {stages})")
    if points is not None:
        cloud = result.points
        if cloud is None and "frames" in result.meta:
            from geodl.recon.posed_fusion import frame_points

            cloud = frame_points(result.meta["frames"], stride=4)
        points.parent.mkdir(parents=True, exist_ok=True)
        cloud.save(points)
        print(f"points: {points} ({len(cloud):,})")
    if (Path(args.captures_dir) / "room_gt.ply").exists():
        from geodl.recon import evaluate_reconstruction, load_room_ground_truth

        gt_mesh, _, _ = load_room_ground_truth(args.captures_dir)
        cameras = [captures.depth_camera(k) if captures.depth is not None else captures.cameras[k]
                   for k in range(len(captures))] if posed else [lf.camera for lf in captures]
        m = evaluate_reconstruction(result.mesh, gt_mesh, cameras)
        print(f"against room_gt.ply (F-score at {100 * m.threshold:.0f} cm): "
              f"F {m.fscore:.3f}, precision {m.precision:.3f}, recall {m.recall:.3f}, "
              f"accuracy {100 * m.accuracy:.1f} cm, completeness {100 * m.completeness:.1f} cm")
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
        if Path(args.json).exists() and not args.force:
            raise FileExistsError(f"{args.json}: exists (--force replaces it)")
        Path(args.json).write_text(json.dumps(results, indent=2))
        print(f"wrote {args.json}")
    return 0


def _finish_training(message: str) -> int:
    """Leave the process group (torchrun) and print ``message`` on rank 0."""
    import torch.distributed as dist

    rank = dist.get_rank() if dist.is_initialized() else 0
    if dist.is_initialized():
        dist.destroy_process_group()
    if rank == 0:
        print(message)
    return 0


def _arch(base: dict, overrides: str) -> dict:
    import json

    arch = dict(base)
    if overrides:
        try:
            arch.update(json.loads(overrides))
        except json.JSONDecodeError as exc:
            raise ValueError(f"--arch: not JSON ({exc})") from None
    return arch


def cmd_train_synthesis(args: argparse.Namespace) -> int:
    from geodl.training.synthesis import DEFAULT_ARCH, LARGE_ARCH, SynthTrainConfig, train_synthesis

    cfg = SynthTrainConfig(rooms=args.rooms, val_rooms=args.val_rooms, size=args.size,
                           steps=args.steps, batch=args.batch, patch=args.patch,
                           margin=args.margin, lr=args.lr, seed=args.seed,
                           grad_weight=args.grad_weight, disp_weight=args.disp_weight,
                           val_every=args.val_every,
                           ckpt_every=args.val_every,
                           arch=_arch(LARGE_ARCH if args.large else DEFAULT_ARCH, args.arch))
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    train_synthesis(cfg, args.out, args.cache, resume=args.resume)
    return _finish_training(f"weights: {Path(args.out) / 'model.pt'} (+ model.json); use them "
                            f"with synthesize_learned(..., checkpoint=...)")


def cmd_train_depth(args: argparse.Namespace) -> int:
    from geodl.training.depth import DEFAULT_CONFIGS, LARGE_CONFIGS, TrainConfig, train

    arch = _arch((LARGE_CONFIGS if args.large else DEFAULT_CONFIGS)[args.model], args.arch)
    cfg = TrainConfig(model=args.model, rooms=args.rooms, val_rooms=args.val_rooms,
                      objects=args.objects, size=args.size, steps=args.steps, batch=args.batch,
                      patch=args.patch, lr=args.lr, seed=args.seed, val_every=args.val_every,
                      ckpt_every=args.val_every, noise=args.noise, vignetting=args.vignetting,
                      val_scenes=list(args.val_scene), arch=arch)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    train(cfg, args.out, args.cache, resume=args.resume)
    return _finish_training(f"weights: {Path(args.out) / 'model.pt'} (+ model.json); use them "
                            f"with estimate_disparity(lf, method={args.model!r}, checkpoint=...)")


def cmd_train_photo_filter(args: argparse.Namespace) -> int:
    from geodl.training.loop import LoopConfig
    from geodl.training.photo_filter import FilterTrainConfig, train_photo_filter

    loop = LoopConfig(steps=args.steps, lr=args.lr, seed=args.seed, val_every=args.val_every,
                      ckpt_every=args.val_every)
    cfg = FilterTrainConfig(rooms=args.rooms, val_rooms=args.val_rooms, hidden=args.hidden,
                            loop=loop)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    train_photo_filter(cfg, args.out, args.cache, resume=args.resume)
    return _finish_training(f"weights: {Path(args.out) / 'model.pt'} (+ model.json); ship them "
                            f"as geodl/mvs/weights/consistency_net.pt (+ .json)")


def cmd_view(args: argparse.Namespace) -> int:
    from geodl.viz import lightfield_layers, load_file, show, snapshot, to_html

    for option, path in (("--html", args.html), ("--png", args.png)):
        if path and Path(path).is_dir():
            raise ValueError(f"{option}: {path} is a folder; expected a file name such as "
                             f"{Path(path) / ('view' + option[1:].replace('-', '.'))}")
    layers = []
    try:
        for spec in args.files:
            if Path(spec).is_dir():  # a light-field folder: centre-view points and the rig
                from geodl.lightfield import load_lightfield

                lf = load_lightfield(spec)
                lf.rig.require_metric(f"{spec}: the 3D view of a light field")
                layers += lightfield_layers(lf, args.scalar)
            else:
                layers.append(load_file(spec, args.scalar))
    except (ValueError, FileNotFoundError) as err:
        raise ValueError(f"view: {err}") from None
    title = args.title or ", ".join(Path(f).name for f in args.files)
    if args.html:
        print(f"wrote {to_html(layers, args.html, title=title, up=args.up)}")
    if args.png:
        print(f"wrote {snapshot(layers, args.png, title=title, up=args.up)}")
    if not (args.html or args.png):
        show(layers, title=title, up=args.up)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from geodl.demo import MARKER, run_demo

    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not args.force:
        raise FileExistsError(f"{out}: not empty and not an earlier demo's output (--force "
                              "writes the demo's files into it anyway)")
    run_demo(out, quick=args.quick)
    return 0


def _disparity_png(disparity, path: Path) -> None:
    """The disparity as a colour-mapped PNG (viridis over its finite range)."""
    import numpy as np

    from geodl.viz import pyplot

    d = np.asarray(disparity, np.float64)
    finite = d[np.isfinite(d)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pyplot().imsave(path, np.nan_to_num(d, nan=lo), cmap="viridis", vmin=lo, vmax=hi)


def _lightfield_options(p: argparse.ArgumentParser) -> None:
    """The options of ``load_lightfield`` for what file names cannot say."""
    g = p.add_argument_group("light-field folders (HCI input_CamNNN.png, <name>_RR_CC.png, "
                             "Stanford out_RR_CC_<y>_<x>.png; what the names cannot say)")
    g.add_argument("--layout", choices=["auto", "hci", "stanford", "rowcol"], default="auto",
                   help="the folder's layout (default: detected from the file names)")
    g.add_argument("--grid", nargs=2, type=int, metavar=("U", "V"),
                   help="views per column and per row, where the names do not say it")
    g.add_argument("--index-base", type=int, choices=[0, 1],
                   help="index of the first row and column in the names (default: "
                        "detected; 0 for Stanford)")
    g.add_argument("--flip-rows", action="store_true",
                   help="the first row of the names is the bottom one")
    g.add_argument("--flip-cols", action="store_true",
                   help="the first column of the names is the right one")
    g.add_argument("--transpose", action="store_true",
                   help="the names give the column first, then the row")
    g.add_argument("--keep-dead-views", action="store_true",
                   help="keep views without usable signal (default: left out, the light field "
                        "cropped to the largest usable sub-grid around the centre)")


def _load_lightfield(path, args: argparse.Namespace, highres: bool = False):
    """``load_lightfield`` with the command's options; says which views it left out."""
    from geodl.lightfield import load_lightfield

    lf = load_lightfield(path, layout=args.layout, grid=args.grid, index_base=args.index_base,
                         flip_rows=args.flip_rows, flip_cols=args.flip_cols,
                         transpose=args.transpose, drop_dead_views=not args.keep_dead_views,
                         highres=highres)
    dropped = lf.meta.get("dropped_views") or []
    if dropped:
        shown = "; ".join(f"({r}, {c}) {why}" for r, c, why in dropped[:6])
        more = f"; and {len(dropped) - 6} more" if len(dropped) > 6 else ""
        U, V = lf.grid_shape
        print(f"{Path(path).name}: left out {len(dropped)} views without usable signal "
              f"(row, column): {shown}{more}; using the {U}x{V} views around the centre")
    return lf


def _estimate_scene(folder: Path, args: argparse.Namespace):
    """(disparity, seconds, scores or None, why there are no scores or None)
    of one scene folder."""
    from geodl.lightfield.benchmark import NothingToScore, evaluate
    from geodl.lightfield.depth import estimate_disparity, estimate_disparity_range

    lf = _load_lightfield(folder, args, highres=args.highres)
    p = lf.meta.get("parameters")
    if args.disp_range is None and getattr(p, "disp_min", None) is None:
        t0 = time.perf_counter()
        lo, hi = lf.meta["estimated_disp_range"] = estimate_disparity_range(lf)
        print(f"{folder.name}: no disparity range given; estimated from the views: "
              f"[{lo:.2f}, {hi:.2f}] px, searched widened by 0.25 ({time.perf_counter() - t0:.1f}"
              " s; --disp-range MIN MAX overrides)")
    t0 = time.perf_counter()
    disparity, _ = estimate_disparity(lf, args.method, disp_range=args.disp_range,
                                      planes=args.planes)
    seconds = time.perf_counter() - t0
    gt = lf.ground_truth
    if gt is None or gt.disparity is None:
        return disparity, seconds, None, None
    try:
        return disparity, seconds, evaluate(disparity.numpy(), gt), None
    except NothingToScore as err:  # the disparity is still worth writing
        return disparity, seconds, None, f"not scored: {err}"


def cmd_depth(args: argparse.Namespace) -> int:
    from geodl.lightfield import write_pfm
    from geodl.lightfield.benchmark import format_table, write_submission

    scene = Path(args.scene_dir)
    if not scene.is_dir():
        raise FileNotFoundError(f"{scene}: no such folder")
    from geodl.lightfield.loader import holds_views

    out = Path(args.out)
    if holds_views(scene):  # one scene -> a PFM and a PNG
        if out.suffix.lower() != ".pfm":
            raise ValueError(f"--out: expected a .pfm file for one scene, got {out}")
        png = out.with_suffix(".png")
        for path in (out, png):
            if path.exists() and not args.force:
                raise FileExistsError(f"{path}: exists (--force replaces it)")
        disparity, seconds, scores, unscored = _estimate_scene(scene, args)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_pfm(out, disparity.numpy())
        _disparity_png(disparity.numpy(), png)
        print(f"{scene.name}: {args.method} in {seconds:.2f} s -> {out}, {png}")
        if unscored:
            print(f"{scene.name}: {unscored}")
        if scores:
            print(format_table({scene.name: scores}))
        return 0
    scenes = sorted(p for p in scene.iterdir() if holds_views(p))
    if not scenes:
        raise FileNotFoundError(f"{scene}: neither a light-field folder (HCI input_CamNNN.png, "
                                "<name>_RR_CC.png, Stanford out_RR_CC_<y>_<x>.png) nor a folder "
                                "of them")
    if not args.force:
        clash = [out / "disp_maps" / f"{p.name}.pfm" for p in scenes
                 if (out / "disp_maps" / f"{p.name}.pfm").exists()]
        if clash:
            raise FileExistsError(f"{clash[0]}: exists (--force replaces the results)")
    results = {}
    for folder in scenes:
        disparity, seconds, scores, unscored = _estimate_scene(folder, args)
        write_submission(out, folder.name, disparity, seconds, overwrite=args.force)
        print(f"{folder.name}: {args.method} in {seconds:.2f} s"
              + (f"; {unscored}" if unscored else ""))
        if scores:
            results[folder.name] = {**scores, "runtime_s": seconds}
    print(f"wrote the submission {out}/ (disp_maps/, runtimes/)")
    if results:
        print(format_table(results))
    return 0


def _image_png(image, path: Path) -> None:
    """A (C, H, W) image in [0, 1] as an 8-bit PNG."""
    import numpy as np
    from PIL import Image

    arr = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(path)


def cmd_synthesize(args: argparse.Namespace) -> int:
    import os
    import shutil

    import torch

    from geodl.io.atomic import staging_folder
    from geodl.lightfield import write_hci_scene
    from geodl.lightfield.loader import holds_views, write_views
    from geodl.lightfield.synthesis import parse_positions, psnr, ssim, synthesize_views
    from geodl.structures import LightField

    scene = Path(args.scene_dir)
    if not holds_views(scene):
        raise FileNotFoundError(f"{scene}: not a light-field folder (HCI input_CamNNN.png, "
                                "<name>_RR_CC.png or Stanford out_RR_CC_<y>_<x>.png views)")
    out = Path(args.out)
    if args.target is not None:
        if out.suffix.lower() != ".png":
            raise ValueError(f"--out: with --target, expected a .png file, got {out}")
        if out.exists() and not args.force:
            raise FileExistsError(f"{out}: exists (--force replaces it)")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.force:
        raise FileExistsError(f"{out}: exists and is not empty (--force replaces its scene files)")
    if out.resolve() == scene.resolve():
        raise ValueError("--out: must differ from SCENE_DIR (the real views are the reference)")
    lf = _load_lightfield(scene, args)
    U, V = lf.grid_shape
    sources = parse_positions(args.sources, (U, V), integer=True, name="--from")
    targets = None
    if args.target is not None:
        targets = parse_positions(args.target, (U, V), integer=False, name="--target")
        if len(targets) != 1:
            raise ValueError(f"--target: expected one position U,V, got {args.target!r}")
    t0 = time.perf_counter()
    images, _, where = synthesize_views(lf, sources, targets, method=args.method,
                                        disp_range=args.disp_range)
    seconds = time.perf_counter() - t0
    print(f"{scene.name}: {args.method} from {len(sources)} views, {len(where)} synthesised in "
          f"{seconds:.2f} s ({seconds / len(where):.2f} s per view)")
    scores = []
    for img, (u, v) in zip(images, where.tolist()):
        if u.is_integer() and v.is_integer():  # a real view to compare with
            real = lf.view(int(u), int(v))
            scores.append((int(u), int(v), psnr(img, real), ssim(img, real)))
    for u, v, p, s in scores:
        print(f"  view ({u}, {v}): PSNR {p:.2f} dB, SSIM {s:.4f}")
    if len(scores) > 1:
        print(f"  mean over {len(scores)} views: PSNR {sum(x[2] for x in scores) / len(scores):.2f}"
              f" dB, SSIM {sum(x[3] for x in scores) / len(scores):.4f}")
    if args.target is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        _image_png(images[0], out)
        print(f"wrote {out}")
        return 0
    views = torch.empty_like(lf.views)
    for r, c in sources:
        views[r, c] = lf.views[r, c]
    for img, (u, v) in zip(images, where.tolist()):
        views[int(u), int(v)] = img.clamp(0, 1)
    result = LightField(views, lf.camera, lf.baseline, lf.focus_distance,
                        meta={"scene": lf.meta.get("scene", scene.name)})
    if lf.meta.get("layout") != "hci" or lf.meta.get("dropped_views"):
        # no parameters.cfg to copy: the views as <scene>_RR_CC.png (1-based)
        out.mkdir(parents=True, exist_ok=True)
        write_views(out, result, str(result.meta["scene"]))
        print(f"wrote {out}/ ({len(sources)} views copied, {len(where)} synthesised, as "
              f"{result.meta['scene']}_RR_CC.png)")
        return 0
    # the writer replaces atomically; then the original parameters.cfg, byte for byte
    with staging_folder(out) as tmp:
        shutil.copyfile(scene / "parameters.cfg", tmp / "parameters.cfg")
        write_hci_scene(out, result, scene=scene.name, overwrite=args.force)
        os.replace(tmp / "parameters.cfg", out / "parameters.cfg")
    print(f"wrote {out}/ ({len(sources)} views copied, {len(where)} synthesised, "
          f"parameters.cfg from {scene.name})")
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error of the command."""

    def error(self, message: str):
        sub = self.prog.partition(" ")[2]
        where = f"{sub}: " if sub else ""
        self.exit(2, f"geodl: error: {where}{message} (see '{self.prog} --help')\n")


def _training_options(p: argparse.ArgumentParser, rooms: int, cache: str, width: int) -> None:
    """The options every ``train-*`` command shares (run folder, rooms,
    schedule, architecture overrides, threads, resume)."""
    p.add_argument("--out", required=True, help="run folder: checkpoints, log.jsonl, model.pt")
    p.add_argument("--rooms", type=int, default=rooms, help="training rooms (training_seeds)")
    p.add_argument("--val-rooms", type=int, default=1, help="held-out training rooms")
    p.add_argument("--size", type=int, default=512, help="rendered room size in px")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-every", type=int, default=250, help="validate + checkpoint period")
    p.add_argument("--cache", default=cache, help="folder of rendered rooms (reused)")
    p.add_argument("--large", action="store_true", help="the larger GPU configuration")
    p.add_argument("--arch", default="", help="JSON overrides of the architecture, e.g. "
                   f"'{{\"width\": {width}}}'")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="geodl", description="geodl: geometric deep learning on graphs, meshes, point "
        "clouds and light fields.", epilog="MESH is a file (PLY/OBJ/OFF/STL) or a recipe: "
        "icosphere:LEVEL, torus, grid:NXxNY.")
    p.add_argument("--debug", action="store_true",
                   help="show the Python traceback of an error")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    d = sub.add_parser("demo", help="a room from light-field captures to an evaluated mesh "
                       "(report.html), then a tour of the library: spectra, descriptors, "
                       "geodesics, kNN graphs, pooling, light fields, jets")
    d.add_argument("--out", default="demo_out", help="output folder (default: demo_out; an "
                   "existing folder is refused unless it holds an earlier demo or --force)")
    d.add_argument("--force", action="store_true", help="write into a non-empty folder")
    d.add_argument("--quick", action="store_true", help="tiny captures and no tour (seconds; "
                   "for tests)")
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
                       "scenes of seeded procedural rooms (or objects: --family objects)")
    r.add_argument("out_dir", metavar="OUT_DIR")
    r.add_argument("--seed", type=int, help="seed of the first scene (default 0)")
    r.add_argument("--scenes", type=int, help="number of scenes (seeds seed, seed+1, ...; "
                   "default 1)")
    r.add_argument("--size", type=int, default=512, help="image side in pixels (default 512)")
    r.add_argument("--grid", type=int, default=9, help="views per side (default 9)")
    r.add_argument("--supersample", type=int,
                   help="rays per pixel side, averaged (default 3: the benchmark rooms' "
                        "anti-aliasing, geodl.datasets.ROOM_SUPERSAMPLE; 1: one ray per pixel)")
    r.add_argument("--benchmark", action="store_true",
                   help="write the fixed benchmark set (seeds 9000-9007; training uses "
                        "seeds below 9000) instead of --seed/--scenes")
    r.add_argument("--highres", action="store_true",
                   help="also write the 10x ground truth and masks (gt_*_highres.pfm, "
                        "about 100 MB per map at 512 px), needed for BadPix on discontinuities")
    r.add_argument("--family", choices=("rooms", "objects"), default="rooms",
                   help="rooms (default; the benchmark's family) or objects: shapes, thin rods "
                   "and photo textures before a backdrop, disparities within about +-4 px "
                   "(geodl.datasets.objects)")
    r.add_argument("--force", action="store_true",
                   help="replace the scene files of existing scene folders")
    r.add_argument("--contact-sheet", metavar="PNG",
                   help="also save a PNG of the centre views and disparities")
    r.set_defaults(func=cmd_render_lightfield)

    rc = sub.add_parser("render-captures", help="render K light-field captures of one seeded "
                        "room (HCI scene folders with poses), a hand-held RGB-D scan of it "
                        "(--kind rgbd, 7-Scenes layout) or posed photos of it (--kind photos, "
                        "COLMAP), plus room_gt.ply and captures.json")
    rc.add_argument("out_dir", metavar="OUT", help="output folder (refused when not empty "
                    "unless --force)")
    rc.add_argument("--kind", choices=("lightfield", "rgbd", "photos"), default="lightfield",
                    help="lightfield (default): light-field rigs; rgbd: a structured-light "
                    "sensor's colour, noisy depth and poses along a hand-held path; photos: a "
                    "COLMAP project of posed 640x480 photos (images/, sparse/0)")
    rc.add_argument("--frames", type=int, help="rgbd: number of frames (default 80)")
    rc.add_argument("--width", type=int, help="rgbd: image width (default 640)")
    rc.add_argument("--height", type=int, help="rgbd: image height (default 480)")
    rc.add_argument("--seed", type=int, default=0, help="room seed (default 0; evaluation "
                    "rooms are the benchmark seeds 9000-9007)")
    rc.add_argument("--captures", type=int, default=4, help="number of captures (default 4)")
    rc.add_argument("--size", type=int, default=512, help="image side in pixels (default 512)")
    rc.add_argument("--grid", type=int, default=9, help="views per side (default 9)")
    rc.add_argument("--fov", type=float, default=75.0,
                    help="horizontal field of view in degrees (default 75)")
    rc.add_argument("--supersample", type=int, default=None, help="samples per pixel side "
                    "(photos: 2 unless given)")
    rc.add_argument("--photos", type=int, default=24, help="--kind photos: how many (three "
                    "per viewing direction; default 24)")
    rc.add_argument("--force", action="store_true",
                    help="replace the captures of an existing folder (other files stay)")
    rc.set_defaults(func=cmd_render_captures)

    rr = sub.add_parser("reconstruct", help="fuse captures into one room mesh: light-field "
                        "captures (one HCI scene folder each, poses in parameters.cfg), RGB-D "
                        "sequences (7-Scenes, TUM), posed photos (COLMAP, transforms.json)")
    rr.add_argument("captures_dir", metavar="CAPTURES_DIR", help="a folder with one HCI scene "
                    "folder per capture (any names; other files ignored), an RGB-D sequence "
                    "folder or a posed-photos project; a room_gt.ply in it is used to score "
                    "the result")
    rr.add_argument("--out", required=True, help="the mesh to write (.ply, .obj or .glb)")
    rr.add_argument("--kind", choices=CAPTURE_KINDS, help="the layout (default: detected)")
    rr.add_argument("--method", choices=[*DEPTH_METHODS, "ground_truth", *POSED_METHODS],
                    help="depth: for light fields a disparity method (default refine_net; "
                    "ground_truth reads each capture's ground-truth depth: the ceiling); for "
                    "posed images sensor (their depth, the default for RGB-D) or mvs")
    rr.add_argument("--voxel", type=float, help="TSDF voxel size in metres (default 0.02 for "
                    "light fields; for posed images the median depth / 128)")
    rr.add_argument("--intrinsics", nargs="+", metavar="K", help="RGB-D: the depth camera's "
                    "intrinsics, a preset (7scenes, freiburg1, freiburg2, freiburg3, "
                    "tum_default), a file of the 3 x 3 K, or FX FY CX CY (default: the "
                    "folder's camera-intrinsics.txt)")
    rr.add_argument("--depth-scale", type=float, help="RGB-D: stored depth units per metre "
                    "(default 1000 for 7-Scenes, 5000 for TUM)")
    rr.add_argument("--depth-max", type=float, metavar="M", help="RGB-D: depths beyond this "
                    "many metres are not fused (default: all)")
    rr.add_argument("--stride", type=int, help="RGB-D: fuse every N-th frame (default 1)")
    rr.add_argument("--min-confidence", type=float, help="pixels of lower depth confidence "
                    "are not fused (default 0.1 for light fields, 0.05 for photos)")
    rr.add_argument("--min-component", type=float, metavar="M2",
                    help="remove mesh pieces smaller than this many square metres (default "
                    "0.1 for light fields, 0 for posed images; 0 keeps all)")
    rr.add_argument("--sfm", action="store_true", help="CAPTURES_DIR is a folder of photos "
                    "without cameras: solve them with pycolmap (SIFT, exhaustive matching, "
                    "incremental mapping) into OUT_colmap/ beside the mesh first")
    rr.add_argument("--no-planes", action="store_true", help="fuse the disparity as "
                    "estimated (default: textureless regions filled from their borders' planes, then "
                    "snapped to each capture's dominant planes)")
    rr.add_argument("--points", help="also write the captures' coloured points (.ply)")
    rr.add_argument("--force", action="store_true", help="replace existing output files")
    rr.set_defaults(func=cmd_reconstruct)

    e = sub.add_parser("evaluate-lightfield", help="score a benchmark submission (disp_maps/, "
                       "runtimes/) against scene folders with ground truth")
    e.add_argument("submission", metavar="SUBMISSION", help="folder with disp_maps/<scene>.pfm")
    e.add_argument("scenes", metavar="SCENES", help="folder of scene folders (<scene>/)")
    e.add_argument("--highres", action="store_true",
                   help="also BadPix on discontinuities from the 10x ground truth")
    e.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    e.add_argument("--force", action="store_true", help="replace an existing --json file")
    e.set_defaults(func=cmd_evaluate_lightfield)

    v = sub.add_parser("view", help="look at meshes, point clouds and HCI light-field scene "
                       "folders in 3D: a window where a display exists, else an offline HTML page")
    v.add_argument("files", metavar="FILE", nargs="+",
                   help="PLY/OBJ/OFF/STL/GLB/PCD/XYZ files or HCI scene folders")
    v.add_argument("--scalar", metavar="NAME", help="colour by this per-vertex property (PLY "
                   "'quality', 'intensity', ...; 'depth' or 'disparity' for scene folders)")
    v.add_argument("--png", metavar="OUT.png", help="write a snapshot instead of showing")
    v.add_argument("--html", metavar="OUT.html", help="write the offline HTML viewer")
    v.add_argument("--title", help="page title (default: the file names)")
    v.add_argument("--up", choices=["x", "y", "z"], default="z", help="the up axis (default z)")
    v.set_defaults(func=cmd_view)

    dp = sub.add_parser("depth", help="disparity of the centre view of an HCI-format scene "
                        "(or of every scene in a folder: a benchmark submission)")
    dp.add_argument("scene_dir", metavar="SCENE_DIR",
                    help="a light-field folder (an HCI scene; <name>_RR_CC.png views as Lytro "
                         "toolboxes write them; Stanford out_RR_CC_<y>_<x>.png) or a folder "
                         "of them")
    dp.add_argument("--method", choices=DEPTH_METHODS, default="cost_volume",
                    help="estimator (default cost_volume)")
    dp.add_argument("--out", required=True, metavar="PATH",
                    help="disp.pfm for one scene (a colour-mapped .png is written beside "
                         "it); a submission folder for a folder of scenes")
    dp.add_argument("--disp-range", nargs=2, type=float, metavar=("MIN", "MAX"),
                    help="disparity range to search in px (default: the scene's "
                         "disp_min/disp_max from parameters.cfg, else estimated from the "
                         "views; widened by 0.25)")
    dp.add_argument("--planes", action=argparse.BooleanOptionalAction, default=None,
                    help="snap the answer to the scene's dominant planes, a prior for "
                         "man-made scenes such as rooms (default: off)")
    dp.add_argument("--highres", action="store_true",
                    help="score against the 10x ground truth too, where present")
    dp.add_argument("--force", action="store_true", help="replace existing outputs")
    _lightfield_options(dp)
    dp.set_defaults(func=cmd_depth)

    t = sub.add_parser("train-depth", help="train the epinet, cost_net or refine_net disparity network on "
                       "rendered training rooms (runs under torchrun for data parallelism)")
    t.add_argument("--model", choices=["epinet", "cost_net", "refine_net"], required=True)
    _training_options(t, rooms=8, cache="datasets/cache/depth_rooms", width=24)
    t.add_argument("--steps", type=int, default=0, help="optimiser steps (0: the model's "
                   "default, 11000 for epinet, 5000 for cost_net, 2000 for refine_net)")
    t.add_argument("--batch", type=int, default=0, help="patches per step (0: the model's "
                   "default, 16 for epinet, 8 for cost_net and refine_net)")
    t.add_argument("--patch", type=int, default=0, help="patch size in px (0: the model's "
                   "default, 32 for epinet, 24 for cost_net, 128 for refine_net)")
    t.add_argument("--objects", type=int, default=0, help="objects scenes (geodl.datasets.objects,"
                   " seeds 0..N-1, disparities within +-4 px) trained on beside the rooms "
                   "(default 0); validation stays on rooms and --val-scene")
    t.add_argument("--noise", type=float, default=0.0, help="sensor-noise augmentation: the "
                   "largest noise level at full signal, drawn per patch (default 0: none; e.g. "
                   "0.03); epinet and cost_net")
    t.add_argument("--vignetting", type=float, default=0.0, help="vignetting augmentation: the "
                   "largest strength, corner views darkest, drawn per patch (default 0: none; "
                   "e.g. 0.5); epinet and cost_net")
    t.add_argument("--val-scene", action="append", default=[], metavar="DIR",
                   help="a light-field folder with ground truth (e.g. an HCI additional scene) "
                        "validated whole beside the held-out rooms, logged as "
                        "<name>_badpix_0.07; repeatable; epinet and cost_net")
    t.set_defaults(func=cmd_train_depth)

    ts = sub.add_parser("train-synthesis", help="train the learned view-synthesis network on "
                        "rendered training rooms (runs under torchrun for data parallelism)")
    _training_options(ts, rooms=16, cache="datasets/cache/synthesis_rooms", width=32)
    ts.add_argument("--steps", type=int, default=1500, help="optimiser steps")
    ts.add_argument("--batch", type=int, default=8, help="examples per step")
    ts.add_argument("--patch", type=int, default=48, help="loss region per example in px")
    ts.add_argument("--margin", type=int, default=24, help="context around the loss region "
                    "in px (what the sources shift in)")
    ts.add_argument("--grad-weight", type=float, default=0.5,
                    help="weight of the L1 loss on image differences")
    ts.add_argument("--disp-weight", type=float, default=0.05,
                    help="weight of the L1 loss on the disparity (against the rooms' "
                         "ground truth)")
    ts.set_defaults(func=cmd_train_synthesis)

    tf = sub.add_parser("train-photo-filter", help="train the learned per-pixel filter of "
                        "multi-view stereo depth (geodl.mvs.learned_filter) on rendered rooms "
                        "photographed as by render-captures --kind photos")
    tf.add_argument("--out", required=True, help="run folder: checkpoints, log.jsonl, model.pt")
    tf.add_argument("--rooms", type=int, default=6, help="training rooms (training_seeds)")
    tf.add_argument("--val-rooms", type=int, default=1, help="held-out training rooms")
    tf.add_argument("--steps", type=int, default=1500, help="optimiser steps")
    tf.add_argument("--lr", type=float, default=3e-3)
    tf.add_argument("--seed", type=int, default=0)
    tf.add_argument("--hidden", type=int, default=32, help="width of the hidden layers")
    tf.add_argument("--val-every", type=int, default=500, help="validate + checkpoint period")
    tf.add_argument("--cache", default="datasets/cache/photo_filter_rooms",
                    help="folder of the rooms' cached pixel features (reused)")
    tf.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    tf.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    tf.set_defaults(func=cmd_train_photo_filter)

    sy = sub.add_parser("synthesize", help="novel views of an HCI-format scene from a few of "
                        "its views: a complete scene folder, or one position as a PNG")
    sy.add_argument("scene_dir", metavar="SCENE_DIR", help="a scene folder (parameters.cfg, "
                    "input_Cam*.png)")
    sy.add_argument("--from", dest="sources", default="corners", metavar="SPEC",
                    help="the views to use: corners, inner-corners, cross, all-but-centre, or "
                         "'U,V;U,V;...' (row, column; default corners)")
    sy.add_argument("--method", choices=SYNTHESIS_METHODS, default="warp",
                    help="warp (estimated disparity, warping and blending), mpi (multiplane "
                         "image), nearest (copy the nearest view), learned (default warp)")
    sy.add_argument("--out", required=True, metavar="PATH",
                    help="output scene folder; with --target, a .png file")
    sy.add_argument("--target", metavar="U,V", help="render only this grid position (real "
                    "numbers allowed, e.g. 4,4.5) to the PNG --out")
    sy.add_argument("--disp-range", nargs=2, type=float, metavar=("MIN", "MAX"),
                    help="disparity range in px (default: the scene's, from parameters.cfg, "
                         "else estimated from the views)")
    sy.add_argument("--force", action="store_true", help="replace existing outputs")
    _lightfield_options(sy)
    sy.set_defaults(func=cmd_synthesize)

    i = sub.add_parser("info", help="versions of geodl and its back-ends")
    i.set_defaults(func=cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand. geodl's own errors, bad values and file problems end
    as one line ``geodl: error: ...`` on stderr with exit code 2 (``--debug``
    keeps the traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, RuntimeError) as err:
        if args.debug:
            raise
        parser.exit(2, f"geodl: error: {_one_line(err)}\n")
    except MemoryError as err:
        if args.debug:
            raise
        parser.exit(2, f"geodl: error: out of memory: {_one_line(err) if str(err) else 'no size reported'}"
                    " (a smaller input or a machine with more memory)\n")
    except KeyboardInterrupt:
        parser.exit(130, "geodl: interrupted\n")


def _one_line(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, OSError) and err.filename and str(err.filename) not in text:
        text = f"{err.filename}: {text}"
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
