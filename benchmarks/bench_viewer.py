"""The offline HTML viewer: page size and time to first frame in headless
Chromium for a 100k-triangle mesh and a 1M-point cloud, and the time a frame
takes while the view turns; with --plotly, the same data through plotly's
offline HTML (plotly.js embedded), the alternative we measured against.

    .venv/bin/python benchmarks/bench_viewer.py [--faces 100000] [--points 1000000] [--plotly]

Needs Debian's Chromium (`make chromium`) and playwright (dev extra). WebGL
runs on SwiftShader (the CPU) here, so frame times are far above a desktop
GPU's; compare the two viewers with each other, not with a screen.
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch

from geodl.structures import Mesh, PointCloud
from geodl.viz import Layer, to_html

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--disable-extensions",
        "--no-first-run", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1000, "height": 700}


def make_mesh(faces: int) -> Mesh:
    """A torus with about ``faces`` triangles (2 n_major n_minor, n_major = 5 n_minor)."""
    n_minor = max(3, round(math.sqrt(faces / 10)))
    return Mesh.torus(n_major=5 * n_minor, n_minor=n_minor)


def make_cloud(points: int) -> PointCloud:
    """``points`` points on a wavy sheet (a surface, as scans are), coloured by height."""
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(points, 2, generator=g, dtype=torch.float64) * 4 - 2
    z = 0.3 * torch.sin(3 * xy[:, 0]) * torch.cos(2 * xy[:, 1])
    p = torch.cat([xy, z[:, None]], 1)
    t = ((z - z.min()) / (z.max() - z.min())).numpy()
    import matplotlib

    return PointCloud(p, torch.from_numpy(matplotlib.colormaps["viridis"](t)[:, :3]))


def open_page(browser, path: Path, ready_js: str) -> tuple[object, float]:
    """Load ``path`` offline until ``ready_js`` holds; returns the page and
    the wall time that took."""
    ctx = browser.new_context(viewport=VIEWPORT, offline=True)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(path.resolve().as_uri(), timeout=600_000)
    page.wait_for_function(ready_js, timeout=600_000, polling=50)
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{path.name}: {errors}")
    return page, wall


def geodl_case(browser, name: str, layer, out: Path) -> dict:
    t0 = time.perf_counter()
    path = to_html(layer, out / f"geodl_{name}.html", title=name)
    write = time.perf_counter() - t0
    page, wall = open_page(browser, path, "() => window.geodlViewer && window.geodlViewer.ready")
    first = page.evaluate("() => window.geodlViewer.firstFrameMs")
    frame = page.evaluate("() => window.geodlViewer.timeFrames(20)")
    full = page.evaluate("() => window.geodlViewer.timeFrames(5, true)")
    detail = page.evaluate("() => window.geodlViewer.detailWhileMoving")
    page.context.close()
    return {"viewer": "geodl (three.js)", "case": name, "MB": path.stat().st_size / 1e6,
            "write s": write, "first frame s": first / 1000, "wall s": wall, "frame ms": frame,
            "full frame ms": full, "detail while moving": detail}


def plotly_case(browser, name: str, obj, out: Path) -> dict:
    import plotly.graph_objects as go

    t0 = time.perf_counter()
    if isinstance(obj, Mesh):
        v, f = obj.verts64.numpy(), obj.faces.numpy()
        trace = go.Mesh3d(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=f[:, 0], j=f[:, 1], k=f[:, 2],
                          intensity=v[:, 2], colorscale="Viridis", showscale=True)
    else:
        p, c = obj.points.numpy(), (obj.colors.numpy() * 255).astype(int)
        trace = go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="markers",
                             marker={"size": 1, "color": [f"rgb({r},{g},{b})" for r, g, b in c]})
    fig = go.Figure(trace)
    fig.update_layout(hovermode=False, scene={"aspectmode": "data"})
    path = out / f"plotly_{name}.html"
    # the plot is on screen two animation frames after newPlot's promise
    post = ("requestAnimationFrame(() => requestAnimationFrame(() => { window.__first = "
            "performance.now(); }));")
    fig.write_html(path, include_plotlyjs=True, post_script=post)
    write = time.perf_counter() - t0
    page, wall = open_page(browser, path, "() => window.__first !== undefined")
    first = page.evaluate("() => window.__first")
    frame = page.evaluate("""async () => {
        const gd = document.querySelector('.js-plotly-plot');
        const n = 10, t0 = performance.now();
        for (let k = 0; k < n; k++) {
            const a = 2 * Math.PI * (k + 1) / n;
            const eye = {x: 1.8 * Math.cos(a), y: 1.8 * Math.sin(a), z: 0.8};
            await Plotly.relayout(gd, {'scene.camera.eye': eye});
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        }
        return (performance.now() - t0) / n;
    }""")
    page.context.close()
    return {"viewer": "plotly (plotly.js)", "case": name, "MB": path.stat().st_size / 1e6,
            "write s": write, "first frame s": first / 1000, "wall s": wall, "frame ms": frame,
            "full frame ms": frame, "detail while moving": 1.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--plotly", action="store_true", help="also measure plotly's offline HTML")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    mesh, cloud = make_mesh(args.faces), make_cloud(args.points)
    print(f"mesh: {mesh}; cloud: {cloud}; Chromium headless, WebGL on SwiftShader (CPU)")
    cases = {f"mesh {mesh.num_faces // 1000}k triangles": (
                 Layer(mesh, scalars=mesh.verts64[:, 2], scalar_name="z"), mesh),
             f"cloud {len(cloud) / 1e6:g}M points": (cloud, cloud)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # warm up: the first page of a browser also starts its GPU process
        warm = to_html(Mesh.icosphere(1), Path(tmp) / "warm.html")
        open_page(browser, warm, "() => window.geodlViewer.ready")[0].context.close()
        for name, (layer, obj) in cases.items():
            rows.append(geodl_case(browser, name, layer, Path(tmp)))
            print(rows[-1], flush=True)
            if args.plotly:
                rows.append(plotly_case(browser, name, obj, Path(tmp)))
                print(rows[-1], flush=True)
        browser.close()
    print("\n| viewer | case | HTML (MB) | write (s) | first frame: page clock (s) | "
          "open -> ready: wall (s) | frame while turning (ms) | full-detail frame (ms) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['viewer']} | {r['case']} | {r['MB']:.1f} | {r['write s']:.2f} | "
              f"{r['first frame s']:.2f} | {r['wall s']:.2f} | {r['frame ms']:.0f} "
              f"(detail {r['detail while moving']:.2f}) | {r['full frame ms']:.0f} |")


if __name__ == "__main__":
    main()
