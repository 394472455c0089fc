"""The HTML viewer in a real browser: headless Chromium (Debian's, driven by
Playwright) opens the pages from disk with the network off and checks that
the canvas is drawn, the expected objects loaded, a legend toggle changes the
picture, a drag turns the view, and the page logged no error and fetched
nothing. Skips where Chromium or Playwright is absent; `make test-browser`
installs Chromium and runs it.

Set GEODL_SCREENSHOTS=DIR to keep the demo viewers' screenshots there (the
README's pictures come from `GEODL_SCREENSHOTS=docs/viewer make test-browser`).
"""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

CHROMIUM = os.environ.get("GEODL_CHROMIUM", "/usr/bin/chromium")
# Chromium as root needs --no-sandbox; headless WebGL runs on SwiftShader (CPU).
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update",
        "--disable-default-apps", "--disable-extensions", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage", "--mute-audio"]
VIEWPORT = {"width": 900, "height": 600}

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"no Chromium at {CHROMIUM} (make test-browser installs it)")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A viewer page with everything it logged and requested."""

    def __init__(self, browser, path: Path) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, offline=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("() => window.geodlViewer && (window.geodlViewer.ready || "
                                    "window.geodlViewer.error)", timeout=120_000)
        assert self.eval("() => window.geodlViewer.error") is None

    def eval(self, js: str):
        return self.page.evaluate(js)

    def frame(self) -> None:
        """Wait until what was asked for is on screen."""
        self.eval("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def canvas(self) -> np.ndarray:
        from PIL import Image

        self.frame()
        png = self.page.locator("#geodl-canvas canvas").screenshot()
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)

    def objects(self) -> list[dict]:
        return self.eval("() => window.geodlViewer.objects.map(o => ({name: o.name, kind: o.kind, "
                         "count: o.count, visible: o.visible}))")

    def check_clean(self) -> None:
        """No errors logged, nothing fetched but the page itself."""
        assert self.errors == []
        assert [u for u in self.requests if not u.startswith(("file:", "data:"))] == []
        self.context.close()


def _changed(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of pixels that differ by more than a rounding step."""
    return float((np.abs(a - b).max(-1) > 8).mean())


def _drawn(img: np.ndarray) -> float:
    """Fraction of pixels that are not the white background."""
    return float((img.min(-1) < 235).mean())


@pytest.fixture(scope="module")
def scene_page(tmp_path_factory):
    from geodl.structures import LightField, Mesh, PinholeCamera, PointCloud
    from geodl.viz import Layer, to_html

    mesh = Mesh.icosphere(3)
    g = torch.Generator().manual_seed(0)
    cloud = PointCloud(torch.randn(2000, 3, generator=g, dtype=torch.float64) * 0.3
                       + torch.tensor([2.5, 0.0, 0.0], dtype=torch.float64))
    cam = PinholeCamera.look_at([-2.5, -2, 1], [0, 0, 0], width=32, height=24)
    lf = LightField(torch.rand(3, 3, 3, 8, 8, generator=g),
                    PinholeCamera.look_at([0, -3.5, 0.5], [0, 0, 0], width=8, height=8),
                    0.1, 3.0)
    objects = {"sphere": Layer(mesh, scalars=mesh.verts64[:, 2], scalar_name="z"),
               "cloud": Layer(cloud, edges=cloud.knn_graph(4)), "camera": cam, "rig": lf}
    path = to_html(objects, tmp_path_factory.mktemp("viewer") / "scene.html", title="browser test",
                   tables={"numbers": [{"a": 1, "b": 2.5}]})
    return path, objects


def test_scene_loads_draws_toggles_and_turns(browser, scene_page):
    from geodl.viz.convert import to_primitives

    path, objects = scene_page
    p = Page(browser, path)
    want = [(q.name, q.kind, q.count) for q in to_primitives(objects)]
    assert [(o["name"], o["kind"], o["count"]) for o in p.objects()] == want
    assert len(want) == 5  # sphere, cloud, its edges, camera, rig
    assert p.page.locator(".geodl-colorbar").count() == 1
    assert p.page.locator(".geodl-table td").all_inner_texts() == ["1", "2.50"]

    first = p.canvas()
    assert _drawn(first) > 0.05, "the canvas is blank"
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 50  # shaded, not a flat fill

    # a legend toggle hides the sphere, and its colour bar, and brings them back
    p.page.click("label[for=geodl-toggle-0]")
    hidden = p.canvas()
    assert p.objects()[0]["visible"] is False
    assert not p.page.locator(".geodl-colorbar").is_visible()
    assert _changed(first, hidden) > 0.02
    assert _drawn(hidden) < _drawn(first)
    p.page.click("label[for=geodl-toggle-0]")
    assert _changed(first, p.canvas()) < 0.001

    # a drag turns the view; R puts it back
    box = p.page.locator("#geodl-canvas canvas").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    p.page.mouse.move(x, y)
    p.page.mouse.down()
    for k in range(1, 11):
        p.page.mouse.move(x + 15 * k, y + 4 * k)
    p.page.mouse.up()
    turned = p.canvas()
    assert _changed(first, turned) > 0.05
    p.page.keyboard.press("r")
    assert _changed(first, p.canvas()) < 0.001

    # the wheel zooms
    p.page.mouse.move(x, y)
    p.page.mouse.wheel(0, -400)
    p.page.wait_for_timeout(200)
    assert _changed(first, p.canvas()) > 0.05
    p.check_clean()


def test_a_page_that_fails_says_so(browser, tmp_path):
    """A broken scene is reported on the page and in window.geodlViewer.error,
    which is what the other tests rely on to catch failures."""
    from geodl.viz import to_html

    path = to_html(np.zeros((3, 3)), tmp_path / "bad.html")
    page = path.read_text().replace('"kind":"points"', '"kind":"blob"')
    path.write_text(page)
    ctx = browser.new_context(viewport=VIEWPORT, offline=True)
    pg = ctx.new_page()
    pg.goto(path.resolve().as_uri())
    pg.wait_for_function("() => window.geodlViewer && window.geodlViewer.error")
    assert "unknown object kind blob" in pg.evaluate("() => window.geodlViewer.error")
    assert pg.locator("#geodl-error").is_visible()
    ctx.close()


def test_demo_viewers(browser, tmp_path):
    """The three pages `make demo` writes load, draw, and (with
    GEODL_SCREENSHOTS) leave their screenshots for the README."""
    from geodl.demo.tour import write_viewers

    keep = os.environ.get("GEODL_SCREENSHOTS")
    pages = write_viewers(tmp_path)
    expected = {"viewer_mesh.html": 2, "viewer_knn.html": 2}
    for path in pages:
        p = Page(browser, path)
        objects = p.objects()
        if path.name in expected:
            assert len(objects) == expected[path.name]
        else:  # the room: its kinds of object, the centre view's points, the rig
            names = [o["name"] for o in objects]
            assert {"floor", "wall", "picture"} <= set(names)
            assert names[-2:] == ["centre view: depth -> points", "light-field rig (5x5)"]
            assert objects[-2]["count"] > 10_000
        assert _drawn(p.canvas()) > 0.05
        shot = tmp_path / (path.stem + ".png")
        p.page.screenshot(path=str(shot))
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)
        p.check_clean()


def test_demo_report_page(browser, tmp_path):
    """The report `geodl demo` writes (here from --quick): the reconstruction,
    the ground truth, the points and every capture's rig load and draw, the
    metric tables are on the page."""
    from geodl.demo import run_room

    run_room(tmp_path, quick=True)
    p = Page(browser, tmp_path / "report.html")
    names = [o["name"] for o in p.objects()]
    assert names[0] == "reconstruction (estimated disparity)"
    assert {"capture_00 rig", "capture_01 rig", "captured points"} <= set(names)
    assert any(n.startswith("ground truth") or n in ("floor", "wall") for n in names)
    assert _drawn(p.canvas()) > 0.05
    assert "F-score" in p.page.content()
    p.check_clean()
