"""The second part of ``geodl demo``: a short, real tour of what the library computes.

Every number printed is computed on the spot and compared with an exact
answer where one exists; every picture is written under the output folder.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import torch


def _step(title: str) -> float:
    print(f"\n== {title}")
    return time.perf_counter()


def _done(t0: float) -> None:
    print(f"   ({time.perf_counter() - t0:.1f} s)")


def run_tour(out: Path) -> None:
    from geodl import ops
    from geodl.structures import Mesh, PointCloud
    from geodl.viz import Layer, render_mesh_grid, snapshot

    out.mkdir(parents=True, exist_ok=True)
    print(f"geodl demo, part 2: a tour of the library; writing pictures to {out}/")

    t0 = _step("1. Laplace-Beltrami spectrum of the unit sphere (icosphere, 2562 vertices)")
    sphere = Mesh.icosphere(4)
    evals, evecs = sphere.eigen(25, cache_dir=False)
    print("   l  multiplicity  exact l(l+1)  computed (mean)  rel. error")
    i = 0
    for l in range(5):
        mult = 2 * l + 1
        got = float(evals[i:i + mult].mean())
        exact = l * (l + 1)
        err = abs(got - exact) / exact if exact else abs(got)
        print(f"   {l}  {mult:12d}  {exact:12d}  {got:15.4f}  {err:10.2e}")
        i += mult
    path = render_mesh_grid(sphere, [evecs[:, j] for j in range(1, 9)],
                            [f"phi_{j} (lambda={evals[j]:.2f})" for j in range(1, 9)],
                            out / "sphere_eigenfunctions.png")
    print(f"   wrote {path}")
    _done(t0)

    t0 = _step("2. Heat-method geodesics vs great circles (icosphere, 10242 vertices)")
    fine = Mesh.icosphere(5)
    d = fine.geodesic(0)
    v = fine.verts64
    gc = torch.arccos((v @ v[0]).clamp(-1, 1))
    away = gc > 0.2
    rel = ((d - gc).abs() / gc)[away]
    dj = fine.dijkstra(0)
    rel_dj = ((dj - gc).abs() / gc)[away]
    print(f"   heat method: mean relative error {100 * float(rel.mean()):.2f} %, "
          f"99th percentile {100 * float(torch.quantile(rel, 0.99)):.2f} %")
    print(f"   Dijkstra on edges: mean relative error {100 * float(rel_dj.mean()):.2f} %")
    png = snapshot(Layer(fine, scalars=d, cmap="magma", scalar_name="distance"),
                   out / "sphere_geodesic.png", title="heat-method distance from a vertex",
                   width=500, height=500)
    print(f"   wrote {png}")
    _done(t0)

    t0 = _step("3. Heat kernel signature on a bumpy torus: intrinsic, so rigid-invariant")
    torus = Mesh.torus(n_major=64, n_minor=24)
    g = torch.Generator().manual_seed(0)
    bump = 1 + 0.15 * torch.sin(3 * torch.atan2(torus.verts64[:, 1], torus.verts64[:, 0]))
    torus = Mesh(torus.verts64 * bump[:, None], torus.faces)
    hks = torus.hks(torch.tensor([0.01, 0.1, 1.0], dtype=torch.float64), k=100)
    from geodl.ops import random_rotation
    R = random_rotation(1)
    moved = Mesh(torus.verts64 @ R.T + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64),
                 torus.faces)
    hks2 = moved.hks(torch.tensor([0.01, 0.1, 1.0], dtype=torch.float64), k=100)
    print(f"   max relative HKS change under a random rigid motion: "
          f"{float(((hks - hks2).abs() / hks.abs()).max()):.1e}")
    path = render_mesh_grid(torus, [hks[:, j] for j in range(3)],
                            [f"HKS t={t}" for t in (0.01, 0.1, 1.0)], out / "torus_hks.png", cols=3,
                            cmap="viridis", elev=50)
    print(f"   wrote {path}")
    _done(t0)

    t0 = _step("4. Point clouds: exact kNN graph and a mesh-free Laplacian")
    p = torch.randn(3000, 3, generator=g, dtype=torch.float64)
    p = p / p.norm(dim=1, keepdim=True)
    cloud = PointCloud(p)
    big = torch.rand(200_000, 3, generator=g)
    t1 = time.perf_counter()
    ei = ops.knn_graph(big, 16)
    print(f"   kNN graph, k=16, 200k points: {ei.shape[1]} edges in {time.perf_counter() - t1:.2f} s")
    w, _ = cloud.eigen(9)
    print("   point-cloud Laplacian of 3000 random sphere samples: "
          + ", ".join(f"{x:.3f}" for x in w.tolist()) + "   (exact: 0, 2 x3, 6 x5)")
    knn = cloud.knn_graph(6)
    png = snapshot(Layer(cloud, scalars=p[:, 2], scalar_name="z", edges=knn, name="points"),
                   out / "sphere_knn.png", title="kNN graph (k=6)", width=500, height=500,
                   legend=False)
    print(f"   wrote {png}")
    _done(t0)

    t0 = _step("5. Pooling: Graclus on a grid graph, QEM simplification of a mesh")
    grid = Mesh.grid(64, 64)
    e = grid.edge_index
    axis = (grid.verts[e[0]] - grid.verts[e[1]]).abs().sum(1) == 1
    levels = ops.graclus_coarsening(e[:, axis], None, grid.num_verts, levels=4)
    print("   Graclus on a 64x64 grid graph: " +
          " -> ".join(str(n) for n in [grid.num_verts] + [lvl.num_nodes for lvl in levels]))
    coarse, cluster = sphere.simplify(162)
    print(f"   QEM simplification: {sphere.num_verts} -> {coarse.num_verts} vertices, "
          f"area {sphere.area:.4f} -> {coarse.area:.4f}, Euler characteristic "
          f"{coarse.check().euler_characteristic}")
    # colour each fine face by the coarse vertex its first corner merged into
    import matplotlib

    colours = (torch.randperm(coarse.num_verts, generator=g)[cluster] % 20)[sphere.faces[:, 0]]
    rgb = matplotlib.colormaps["tab20"](colours.numpy())[:, :3]
    png = snapshot(Layer(sphere, colors=rgb), out / "sphere_pooling_clusters.png",
                   title="fine vertices coloured by coarse vertex", width=500, height=500)
    print(f"   wrote {png}")
    _done(t0)
    t0 = _step("6. Light fields: a procedural room through a 5x5 camera array (HCI model)")
    from geodl.datasets import render_hci_scene
    from geodl.lightfield import epi, refocus, warp_lightfield_to_center, write_hci_scene
    from geodl.viz import pyplot, save_figure

    lf = render_hci_scene(0, size=160, grid=5, progress=False)
    d = lf.disparity
    finite = torch.isfinite(d)
    print(f"   {lf}, disparity [{float(d[finite].min()):.2f}, {float(d[finite].max()):.2f}] px")
    errs = []
    for sign in (1, -1):
        warped, valid = warp_lightfield_to_center(lf, sign * torch.nan_to_num(d))
        errs.append(float((warped - lf.center_view).abs().mean(2)[valid].median()))
    print(f"   views warped to the centre with the true disparity: median error {errs[0]:.4f}; "
          f"with the opposite sign: {errs[1]:.4f}")
    plt = pyplot()
    fig, ax = plt.subplots(1, 5, figsize=(17, 3.6))
    ax[0].imshow(lf.center_view.permute(1, 2, 0).numpy())
    ax[0].set_title("centre view")
    im = ax[1].imshow(d.numpy(), cmap="viridis")
    ax[1].set_title("ground-truth disparity (px)")
    fig.colorbar(im, ax=ax[1], fraction=0.046)
    row = lf.height // 2
    ax[2].imshow(epi(lf, "horizontal", row).permute(0, 2, 1).numpy(),
                 aspect=8, interpolation="nearest")
    ax[2].set_title(f"horizontal EPI, image row {row}")
    for k, disp in enumerate((float(d[finite].max()) * 0.8, float(d[finite].min()) * 0.8)):
        ax[3 + k].imshow(refocus(lf, disp).permute(1, 2, 0).clamp(0, 1).numpy())
        ax[3 + k].set_title(f"refocused at d = {disp:.1f} px")
    for a in ax:
        a.set_xticks([]), a.set_yticks([])
    print(f"   wrote {save_figure(fig, out / 'lightfield.png')}")
    folder = write_hci_scene(out / "hci_scene", lf, scene=lf.meta["scene"], overwrite=True)
    print(f"   wrote an HCI-benchmark scene folder: {folder}/")
    _done(t0)
    t0 = _step("7. Jets as point clouds: top quarks vs QCD (Pythia 8 + FastJet fixture)")
    _jets(out)
    _done(t0)
    t0 = _step("8. Interactive 3D viewers: one HTML file each, offline (drag, zoom, toggles)")
    for path in write_viewers(out, torus=torus, cloud=(cloud, knn), lf=lf):
        print(f"   wrote {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    _done(t0)
    print(f"\nDone. Pictures: {', '.join(sorted(x.name for x in out.glob('*.png')))}")
    print(f"3D viewers (open in a browser, offline): "
          f"{', '.join(sorted(x.name for x in out.glob('viewer_*.html')))}")


def write_viewers(out: Path, torus=None, cloud=None, lf=None, seed: int = 0) -> list[Path]:
    """The demo's HTML viewers: ``viewer_mesh.html`` (a mesh coloured by a
    Laplace-Beltrami eigenfunction, its edges one toggle away),
    ``viewer_knn.html`` (a point cloud and its kNN graph) and
    ``viewer_room.html`` (a procedural room, a light-field rig and the points
    its centre camera sees). Missing inputs are made here (room ``seed``)."""
    from geodl.datasets import render_hci_scene
    from geodl.render import make_room
    from geodl.structures import Mesh, PointCloud
    from geodl.viz import Layer, center_points, to_html
    from geodl.viz.primitives import Primitive
    from geodl.viz.room import scene_primitives

    if torus is None:
        torus = Mesh.torus(n_major=64, n_minor=24)
        bump = 1 + 0.15 * torch.sin(3 * torch.atan2(torus.verts64[:, 1], torus.verts64[:, 0]))
        torus = Mesh(torus.verts64 * bump[:, None], torus.faces)
    evals, evecs = torus.eigen(12, cache_dir=False)
    k = 6
    mesh_html = to_html(
        {f"torus: phi_{k}": Layer(torus, scalars=evecs[:, k], scalar_name=f"phi_{k}",
                                  cmap="coolwarm"),
         "torus edges": Primitive("torus edges", "lines", torus.verts64.numpy(),
                                  torus.edges.numpy(), color=(0.3, 0.3, 0.3), visible=False,
                                  info=f"{len(torus.edges):,} edges")},
        out / "viewer_mesh.html", title=f"Laplace-Beltrami eigenfunction phi_{k} on a bumpy torus",
        tables={"eigenvalues": [{"k": i, "lambda_k": float(evals[i])} for i in range(10)]},
        elev=40)
    if cloud is None:
        g = torch.Generator().manual_seed(0)
        p = torch.randn(3000, 3, generator=g, dtype=torch.float64)
        pc = PointCloud(p / p.norm(dim=1, keepdim=True))
        cloud = (pc, pc.knn_graph(6))
    pc, knn = cloud
    knn_html = to_html({"sphere samples": Layer(pc, scalars=pc.points[:, 2], scalar_name="z",
                                                edges=knn)},
                       out / "viewer_knn.html", title=f"kNN graph (k=6) of {len(pc)} points on "
                       "the unit sphere")
    if lf is None:
        lf = render_hci_scene(seed, size=160, grid=5, progress=False)
    points, _ = center_points(lf)
    room = scene_primitives(make_room(seed), hidden=("ceiling", "wall"))
    forward = lf.camera.R[2].numpy()
    behind = math.degrees(math.atan2(-forward[1], -forward[0]))  # azimuth behind the rig
    U, V = lf.grid_shape
    room_html = to_html(
        [*room, Layer(points, name="centre view: depth -> points"),
         Layer(lf, name=f"light-field rig ({U}x{V})")],
        out / "viewer_room.html", title=f"room {seed}: light-field rig, its centre view's points",
        elev=50, azim=behind,
        tables={"rig": [{"views": f"{U} x {V}", "baseline (m)": lf.baseline,
                         "focus (m)": lf.focus_distance, "image (px)": f"{lf.width} x {lf.height}",
                         "points": len(points)}]})
    return [mesh_html, knn_html, room_html]


def _jets(out: Path) -> None:
    """The shipped top-tagging fixture: the top mass in the data, one jet of
    each kind as a point cloud with its kNN graph, mass distributions."""
    import numpy as np

    from geodl.datasets import TopTagging
    from geodl.ops import knn_graph
    from geodl.viz import pyplot, save_figure

    ds = TopTagging()
    top, qcd = ds.mass[ds.labels == 1], ds.mass[ds.labels == 0]
    print(f"   {len(ds)} jets (anti-kT R=0.8, 550 < pT < 650 GeV): median mass of top jets "
          f"{np.median(top):.1f} GeV (top quark: 172.5), of QCD jets {np.median(qcd):.1f} GeV")
    plt = pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2))
    for a, label, name in ((ax[0], 1, "top jet"), (ax[1], 0, "QCD jet")):
        data = ds.data(int(np.flatnonzero(ds.labels == label)[0]))
        edges = knn_graph(data.pos, 8)
        for s_, t_ in edges.t().tolist():
            a.plot(*data.pos[[s_, t_]].T.numpy(), color="0.8", lw=0.5, zorder=0)
        pt = data.x[:, 0].exp().numpy()
        a.scatter(*data.pos.T.numpy(), s=300 * pt / pt.max(), c=np.log(pt), cmap="viridis")
        a.set(title=f"{name}: {data.num_nodes} particles, kNN graph (k=8)",
              xlabel="d_eta", ylabel="d_phi", xlim=(-1, 1), ylim=(-1, 1), aspect="equal")
    bins = np.linspace(0, 300, 61)
    ax[2].hist(top, bins, alpha=0.6, label="top jets")
    ax[2].hist(qcd, bins, alpha=0.6, label="QCD jets")
    ax[2].axvline(172.5, color="k", lw=1, ls="--", label="top mass")
    ax[2].set(xlabel="jet mass (GeV)", ylabel="jets", title="jet mass")
    ax[2].legend(fontsize=8)
    print(f"   wrote {save_figure(fig, out / 'jets.png')}")
