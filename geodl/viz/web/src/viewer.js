// geodl's offline 3D viewer: reads the scene that geodl.viz.to_html embedded in
// <script type="application/json" id="geodl-scene"> and draws it with three.js.
//
// Scene format (written by geodl/viz/html.py, version 1):
//   {title, view: {eye, target, up, fov}, background, objects: [...], tables: [...]}
//   object: {name, kind: "mesh" | "points" | "lines", visible, info,
//            positions: buffer, index: buffer | null, colors: buffer | null,
//            color: "#rrggbb", opacity, size (points, world units), colorbar | null}
//   buffer: {dtype: "float32" | "uint16" | "uint32" | "uint8", shape, data: base64,
//            offset?, scale?}  (uint16 positions are offset + scale * q / 65535)
//
// Responsiveness with a million points: each object is one static GPU buffer and
// one draw call, quantised positions (6 bytes a point) and uint8 colours, and
// the scene is drawn only when the view or a toggle changes, never in a loop.
//
// window.geodlViewer exposes what the tests and benchmarks read: ready, error,
// objects [{name, kind, count, visible}], firstFrameMs, setVisible(i, on),
// resetView(), timeFrames(n).
import {
  AmbientLight, BufferAttribute, BufferGeometry, CanvasTexture, Color, ColorManagement, DirectionalLight,
  DoubleSide, LinearSRGBColorSpace, LineBasicMaterial, LineSegments, Mesh,
  MeshLambertMaterial, PerspectiveCamera, Points, PointsMaterial, Scene, Sphere, Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

// Colours arrive in display (sRGB) space and are shown as they are, as
// matplotlib shows them: no linear-light conversion anywhere.
ColorManagement.enabled = false;

const state = { ready: false, error: null, objects: [], firstFrameMs: null, frames: 0 };
window.geodlViewer = state;

function decode(buffer) {
  const text = buffer.data;
  let bytes;
  if (typeof Uint8Array.fromBase64 === 'function') {
    bytes = Uint8Array.fromBase64(text);
  } else {
    const bin = atob(text);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  }
  const types = { float32: Float32Array, uint16: Uint16Array, uint32: Uint32Array, uint8: Uint8Array };
  const T = types[buffer.dtype];
  if (!T) throw new Error(`unknown dtype ${buffer.dtype}`);
  return new T(bytes.buffer, bytes.byteOffset, bytes.byteLength / T.BYTES_PER_ELEMENT);
}

function geometryOf(spec) {
  const g = new BufferGeometry();
  const p = spec.positions;
  const quantised = p.dtype === 'uint16';
  g.setAttribute('position', new BufferAttribute(decode(p), 3, quantised));
  if (spec.index) g.setIndex(new BufferAttribute(decode(spec.index), 1));
  if (spec.colors) g.setAttribute('color', new BufferAttribute(decode(spec.colors), 3, true));
  // The bounds come with the data: scanning a million points for them would
  // cost more than drawing them.
  const [lo, hi] = quantised ? [[0, 0, 0], [1, 1, 1]] : [spec.bounds[0], spec.bounds[1]];
  const c = new Vector3((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2);
  g.boundingSphere = new Sphere(c, c.distanceTo(new Vector3(...hi)) + 1e-9);
  if (spec.kind === 'mesh') g.computeVertexNormals();
  return { g, quantised };
}

// Points are discs: a round sprite, its outside cut by the alpha test.
let discTexture = null;
function disc() {
  if (!discTexture) {
    const c = document.createElement('canvas');
    c.width = c.height = 64;
    const ctx = c.getContext('2d');
    ctx.beginPath();
    ctx.arc(32, 32, 31, 0, 2 * Math.PI);
    ctx.fillStyle = '#fff';
    ctx.fill();
    discTexture = new CanvasTexture(c);
  }
  return discTexture;
}

function objectOf(spec, fov) {
  const { g, quantised } = geometryOf(spec);
  const vertexColors = Boolean(spec.colors);
  const color = vertexColors ? 0xffffff : new Color(spec.color);
  const transparent = spec.opacity < 1;
  let obj;
  if (spec.kind === 'mesh') {
    obj = new Mesh(g, new MeshLambertMaterial({
      color, vertexColors, side: DoubleSide, transparent, opacity: spec.opacity,
    }));
  } else if (spec.kind === 'points') {
    // three.js draws a point size * (H / 2) / z pixels wide; a point of
    // world size s at depth z covers s * f / z pixels, f = (H / 2) / tan(fov / 2)
    obj = new Points(g, new PointsMaterial({
      color, vertexColors, size: spec.size / Math.tan(fov * Math.PI / 360), sizeAttenuation: true,
      map: disc(), alphaTest: 0.5, transparent,
      opacity: spec.opacity,
    }));
  } else if (spec.kind === 'lines') {
    obj = new LineSegments(g, new LineBasicMaterial({
      color, vertexColors, transparent, opacity: spec.opacity,
    }));
  } else {
    throw new Error(`unknown object kind ${spec.kind}`);
  }
  if (quantised) {
    obj.position.set(...spec.positions.offset);
    obj.scale.set(...spec.positions.scale);
  }
  obj.visible = spec.visible;
  return obj;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function fmt(x) {
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return (a !== 0 && (a < 1e-3 || a >= 1e4)) ? x.toExponential(2) : x.toPrecision(3);
}

function colorbarOf(cb) {
  const stops = cb.stops.map((s, i) => `${s} ${(100 * i / (cb.stops.length - 1)).toFixed(1)}%`);
  return el('div', { class: 'geodl-colorbar' },
    el('div', { class: 'geodl-cb-label' }, cb.label),
    el('div', { class: 'geodl-cb-row' },
      el('div', { class: 'geodl-cb-bar', style: `background: linear-gradient(to right, ${stops.join(', ')})` })),
    el('div', { class: 'geodl-cb-range' }, el('span', {}, fmt(cb.min)), el('span', {}, fmt(cb.max))));
}

function tableOf(t) {
  const head = el('tr', {}, ...t.columns.map((c) => el('th', {}, String(c))));
  const rows = t.rows.map((r) => el('tr', {}, ...r.map((v) => el('td', {}, typeof v === 'number' ? fmt(v) : String(v)))));
  return el('table', { class: 'geodl-table' },
    ...(t.caption ? [el('caption', {}, t.caption)] : []), el('thead', {}, head), el('tbody', {}, ...rows));
}

function main() {
  const spec = JSON.parse(document.getElementById('geodl-scene').textContent);
  const container = document.getElementById('geodl-canvas');
  const renderer = new WebGLRenderer({ antialias: true });
  renderer.outputColorSpace = LinearSRGBColorSpace;
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  renderer.setSize(container.clientWidth, container.clientHeight);
  renderer.setClearColor(new Color(spec.background));
  container.append(renderer.domElement);

  const scene = new Scene();
  const v = spec.view;
  const radius = Math.max(spec.radius, 1e-9);
  const camera = new PerspectiveCamera(v.fov, container.clientWidth / container.clientHeight,
    radius * 1e-3, radius * 1e3);
  camera.up.set(...v.up);
  camera.position.set(...v.eye);
  // a head light: whatever side the user looks from is lit
  // three.js divides Lambert's light by pi: these give colour * (0.45 + 0.6 cos),
  // the shading geodl.viz.snapshot uses too
  scene.add(new AmbientLight(0xffffff, 0.45 * Math.PI));
  const head = new DirectionalLight(0xffffff, 0.6 * Math.PI);
  camera.add(head);
  head.position.set(0, 0, 1);
  scene.add(camera);

  const controls = new OrbitControls(camera, renderer.domElement);
  controls.target.set(...v.target);
  controls.screenSpacePanning = true;
  controls.update();

  let pending = false;
  function draw() {
    pending = false;
    renderer.render(scene, camera);
    state.frames += 1;
  }
  function requestDraw() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }
  controls.addEventListener('change', requestDraw);

  // Level of detail while the view moves. The first frame is timed (one
  // read-back); if a frame costs more than BUDGET_MS (a software renderer, a
  // weak GPU, millions of points), drags draw a prefix of each point cloud
  // (geodl shuffles points, so a prefix is a uniform sample) and fewer pixels,
  // both scaled to fit the budget; releasing the mouse draws everything.
  const BUDGET_MS = 40;
  const pixelRatio = window.devicePixelRatio || 1;
  let lod = 1;
  function setDetail(moving) {
    const f = moving ? lod : 1;
    for (const e of state.objects) {
      if (e.kind === 'points') e.object.geometry.setDrawRange(0, f < 1 ? Math.max(20000, Math.floor(e.points * f)) : Infinity);
    }
    renderer.setPixelRatio(pixelRatio * (f < 1 ? Math.max(0.4, Math.sqrt(f)) : 1));
  }
  controls.addEventListener('start', () => { setDetail(true); });
  controls.addEventListener('end', () => { setDetail(false); requestDraw(); });

  const legend = document.getElementById('geodl-legend');
  const colorbars = [];
  spec.objects.forEach((o, i) => {
    const obj = objectOf(o, v.fov);
    scene.add(obj);
    const entry = { name: o.name, kind: o.kind, count: o.count, visible: o.visible, object: obj,
      points: o.kind === 'points' ? o.count : 0 };
    state.objects.push(entry);
    const box = el('input', { type: 'checkbox', id: `geodl-toggle-${i}`, 'data-index': String(i) });
    box.checked = o.visible;
    box.addEventListener('change', () => state.setVisible(i, box.checked));
    const fill = o.colorbar ? `linear-gradient(to right, ${o.colorbar.stops.join(', ')})` : o.color;
    const swatch = el('span', { class: 'geodl-swatch', style: `background: ${fill}` });
    legend.append(el('label', { class: 'geodl-entry', for: `geodl-toggle-${i}`, title: o.info },
      box, swatch, el('span', { class: 'geodl-name' }, o.name), el('span', { class: 'geodl-info' }, o.info)));
    if (o.colorbar) {
      const cb = colorbarOf(o.colorbar);
      cb.style.display = o.visible ? '' : 'none';
      colorbars[i] = cb;
      document.getElementById('geodl-colorbars').append(cb);
    }
  });
  const tables = document.getElementById('geodl-tables');
  for (const t of spec.tables) tables.append(tableOf(t));

  state.setVisible = (i, on) => {
    const e = state.objects[i];
    e.visible = e.object.visible = Boolean(on);
    const box = document.getElementById(`geodl-toggle-${i}`);
    if (box.checked !== e.visible) box.checked = e.visible;
    if (colorbars[i]) colorbars[i].style.display = e.visible ? '' : 'none';
    requestDraw();
  };
  state.resetView = () => {
    camera.position.set(...v.eye);
    camera.up.set(...v.up);
    controls.target.set(...v.target);
    controls.update();
    requestDraw();
  };
  // Mean milliseconds a frame while the view turns (as in a drag, with its
  // level of detail; full detail when full is true): each frame is waited for
  // (a one-pixel read back), so this is the time a drag step costs.
  state.timeFrames = (n, full = false) => {
    const gl = renderer.getContext();
    const px = new Uint8Array(4);
    if (!full) setDetail(true);
    const t0 = performance.now();
    for (let k = 0; k < n; k++) {
      camera.position.sub(controls.target).applyAxisAngle(camera.up, 2 * Math.PI / n).add(controls.target);
      camera.lookAt(controls.target);
      renderer.render(scene, camera);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    }
    const ms = (performance.now() - t0) / n;
    setDetail(false);
    state.resetView();
    return ms;
  };
  document.getElementById('geodl-reset').addEventListener('click', state.resetView);
  window.addEventListener('keydown', (e) => { if (e.key === 'r' || e.key === 'R') state.resetView(); });
  window.addEventListener('resize', () => {
    camera.aspect = container.clientWidth / container.clientHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(container.clientWidth, container.clientHeight);
    requestDraw();
  });

  const gl = renderer.getContext();
  const t0 = performance.now();
  draw();
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  state.fullFrameMs = performance.now() - t0;
  lod = Math.min(1, BUDGET_MS / Math.max(state.fullFrameMs, 1e-3));
  state.detailWhileMoving = lod;
  // the first frame is on screen once the browser has presented it
  requestAnimationFrame(() => requestAnimationFrame(() => {
    state.firstFrameMs = performance.now();
    state.ready = true;
  }));
}

try {
  main();
} catch (err) {
  state.error = String(err && err.stack ? err.stack : err);
  console.error('geodl viewer:', err);
  const box = document.getElementById('geodl-error');
  if (box) { box.textContent = `The viewer could not start: ${err}`; box.style.display = 'block'; }
}
