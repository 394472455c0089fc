import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch_geometric.data import Batch

from geodl.structures import Mesh


def test_validation_names_the_problem():
    v = torch.rand(4, 3)
    f = torch.tensor([[0, 1, 2], [0, 2, 3]])
    with pytest.raises(ValueError, match=r"verts: expected shape \(N, 3\)"):
        Mesh(torch.rand(4, 2), f)
    with pytest.raises(ValueError, match=r"faces: expected shape"):
        Mesh(v, torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match=r"faces: indices must lie in \[0, 4\)"):
        Mesh(v, torch.tensor([[0, 1, 4]]))
    with pytest.raises(ValueError, match="NaN"):
        Mesh(torch.tensor([[0, 0, 0], [1, 0, 0], [0, float("inf"), 0]]), torch.tensor([[0, 1, 2]]))
    with pytest.raises(TypeError, match="faces: expected integer"):
        Mesh(v, torch.tensor([[0.5, 1, 2]]))
    with pytest.raises(ValueError, match="at least one face"):
        Mesh(v, torch.zeros(0, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="verts"):
        Mesh("not an array", f)


def test_check_reports_each_defect():
    v = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [2, 0, 0],
                      [5, 5, 5]])
    f = torch.tensor([[0, 1, 2], [0, 2, 3], [0, 3, 1], [1, 3, 2],  # a tetrahedron
                      [0, 1, 4],  # third face on edge (0, 1): non-manifold edge
                      [2, 1, 0],  # duplicate of face 0 (reversed)
                      [0, 1, 5]])  # collinear: degenerate (and a 4th face on edge 0-1)
    r = Mesh(v, f).check()
    assert r.degenerate_faces.tolist() == [6]
    assert r.duplicate_faces.tolist() == [5]
    assert [0, 1] in r.nonmanifold_edges.tolist()
    assert r.isolated_verts.tolist() == [6]
    assert not r.ok and not r.is_manifold
    with pytest.raises(ValueError, match="duplicate faces"):
        Mesh(v, f).check(strict=True)


def test_non_manifold_vertex_bowtie():
    v = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [-1, 0, 0], [-1, -1, 0]])
    r = Mesh(v, torch.tensor([[0, 1, 2], [0, 3, 4]])).check()
    assert r.nonmanifold_verts.tolist() == [0] and r.nonmanifold_edges.numel() == 0
    clean = Mesh.icosphere(2).check()
    assert clean.ok and clean.is_closed and clean.euler_characteristic == 2
    assert Mesh.torus().check().euler_characteristic == 0


def test_geometry_on_sphere():
    m = Mesh.icosphere(3)
    assert 4 * np.pi - 0.07 < m.area < 4 * np.pi  # inscribed polyhedron
    # outward normals equal the positions on the unit sphere
    assert float((m.vertex_normals - m.verts64).norm(dim=1).max()) < 0.02
    assert (m.face_normals * m.verts64[m.faces].mean(1)).sum(1).min() > 0.99


@pytest.mark.parametrize("suffix", [".ply", ".obj", ".off"])
def test_file_round_trip(tmp_path, suffix):
    m = Mesh.torus(n_major=12, n_minor=6)
    path = tmp_path / f"torus{suffix}"
    m.save(path)
    back = Mesh.load(path)
    assert torch.equal(back.faces, m.faces)
    assert torch.allclose(back.verts64, m.verts64, atol=1e-6)


def test_io_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        Mesh.load(tmp_path / "missing.ply")
    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 3\n")  # truncated
    with pytest.raises(ValueError, match="bad.ply"):
        Mesh.load(bad)
    with pytest.raises(ValueError, match="unsupported"):
        Mesh.icosphere(1).save(tmp_path / "x.xyz")


def test_trimesh_open3d_and_pyg_round_trips():
    m = Mesh.icosphere(2)
    for back in (Mesh.from_trimesh(m.to_trimesh()), Mesh.from_open3d(m.to_open3d()),
                 Mesh.from_data(m.to_data())):
        assert torch.equal(back.faces, m.faces)
        assert torch.allclose(back.verts64, m.verts64)
    d = m.to_data()
    assert d.face.shape == (3, m.num_faces) and d.edge_index.shape == (2, 2 * len(m.edges))


def test_meshes_batch_through_pyg():
    a, b = Mesh.icosphere(1), Mesh.torus(n_major=8, n_minor=4)
    batch = Mesh.batch([a, b], y=[torch.tensor([0]), torch.tensor([1])])
    assert isinstance(batch, Batch) and batch.num_graphs == 2
    assert torch.equal(batch.face[:, a.num_faces:], b.faces.T + a.num_verts)
    assert torch.equal(batch.get_example(1).face, b.faces.T)
    assert batch.y.tolist() == [0, 1]


@given(arrays(np.float64, st.tuples(st.integers(0, 6), st.integers(0, 4)),
              elements=st.floats(allow_nan=True, allow_infinity=True)),
       arrays(np.int64, st.tuples(st.integers(0, 5), st.integers(0, 4)),
              elements=st.integers(-3, 8)))
def test_fuzz_mesh_constructor(verts, faces):
    """Random arrays either build a valid mesh or raise ValueError/TypeError."""
    try:
        m = Mesh(verts, faces)
    except (ValueError, TypeError):
        return
    assert torch.isfinite(m.verts).all()
    assert m.faces.min() >= 0 and m.faces.max() < m.num_verts
    m.check()  # never crashes


def _flip(faces, rows):
    f = faces.clone()
    f[rows] = f[rows].flip(1)
    return f


def _mobius(n=12):
    """A Moebius strip: no consistent orientation exists."""
    t = torch.arange(n, dtype=torch.float64) * 2 * np.pi / n
    verts = []
    for s in (-0.3, 0.3):
        r = 1 + s * torch.cos(t / 2)
        verts.append(torch.stack([r * torch.cos(t), r * torch.sin(t), s * torch.sin(t / 2)], 1))
    v = torch.cat(verts)
    faces = []
    for i in range(n):
        j = (i + 1) % n
        a, b = i, i + n
        c, d = (j, j + n) if j else (j + n, j)  # the half twist swaps the sides
        faces += [[a, c, b], [b, c, d]]
    return v, torch.tensor(faces)


@pytest.mark.parametrize("case", ["one face flipped", "half flipped", "grid face flipped",
                                  "mobius"])
def test_check_reports_inconsistent_orientation(case):
    sphere = Mesh.icosphere(2)
    if case == "one face flipped":
        m = Mesh(sphere.verts, _flip(sphere.faces, [5]))
    elif case == "half flipped":
        m = Mesh(sphere.verts, _flip(sphere.faces, list(range(0, sphere.num_faces, 2))))
    elif case == "grid face flipped":
        g = Mesh.grid(4, 4)
        m = Mesh(g.verts, _flip(g.faces, [3]))
    else:
        m = Mesh(*_mobius())
    r = m.check()
    assert len(r.misoriented_edges) > 0 and not r.ok
    assert "inconsistently oriented" in str(r)
    with pytest.raises(ValueError, match="oriented"):
        m.check(strict=True)
    if case == "one face flipped":  # exactly the three edges of the flipped face
        f = sphere.faces[5].tolist()
        expect = sorted(sorted(e) for e in ([f[0], f[1]], [f[1], f[2]], [f[0], f[2]]))
        assert sorted(r.misoriented_edges.tolist()) == expect


@pytest.mark.parametrize("mesh", [lambda: Mesh.icosphere(2), lambda: Mesh.torus(),
                                  lambda: Mesh.grid(5, 4),
                                  lambda: Mesh(Mesh.icosphere(1).verts,
                                               Mesh.icosphere(1).faces.flip(1))])
def test_consistently_oriented_meshes_pass(mesh):
    """Either consistent orientation passes, the inward one included."""
    r = mesh().check()
    assert r.ok and len(r.misoriented_edges) == 0


def _coloured_sphere() -> Mesh:
    m = Mesh.icosphere(1)
    rng = np.random.default_rng(0)
    m.colors = torch.from_numpy(rng.integers(0, 256, (m.num_verts, 3)) / 255.0)
    return m


@pytest.mark.parametrize("suffix", [".ply", ".obj", ".glb"])
def test_vertex_colours_survive_files(tmp_path, suffix):
    m = _coloured_sphere()
    m.save(tmp_path / f"m{suffix}")
    back = Mesh.load(tmp_path / f"m{suffix}")
    assert torch.allclose(back.verts64, m.verts64, atol=1e-6)
    assert torch.equal(back.faces, m.faces)
    # 8-bit in the files: colours that are multiples of 1/255 come back exactly
    assert torch.allclose(back.colors, m.colors, atol=1e-9)


def test_vertex_colours_through_trimesh_and_open3d():
    m = _coloured_sphere()
    assert torch.allclose(Mesh.from_trimesh(m.to_trimesh()).colors, m.colors, atol=1e-9)
    assert torch.allclose(Mesh.from_open3d(m.to_open3d()).colors, m.colors, atol=1e-9)
    plain = Mesh.icosphere(1)
    assert plain.colors is None and "colors" not in repr(plain) and "colors" in repr(m)
    assert Mesh.from_trimesh(plain.to_trimesh()).colors is None
    assert Mesh.from_open3d(plain.to_open3d()).colors is None


def test_vertex_colours_are_validated_and_kept_apart_from_geometry():
    m = Mesh.icosphere(1)
    V = m.num_verts
    with pytest.raises(ValueError, match="colors"):
        Mesh(m.verts, m.faces, colors=torch.ones(V - 1, 3))
    with pytest.raises(ValueError, match="colors"):
        Mesh(m.verts, m.faces, colors=torch.full((V, 3), 1.5))
    with pytest.raises(ValueError, match="colors"):
        Mesh(m.verts, m.faces, colors=torch.full((V, 3), float("nan")))
    with pytest.raises(ValueError, match="colors"):
        Mesh(m.verts, m.faces, colors=torch.ones(V, 4))
    c = torch.rand(V, 3)
    coloured = Mesh(m.verts, m.faces, colors=c)
    c[0] = 0.123  # the mesh keeps its own copy
    assert not torch.equal(coloured.colors[0], c[0])
    lap = coloured.laplacian()
    coloured.colors = None  # colours are not geometry: cached operators stay
    assert coloured.laplacian() is lap
    with pytest.raises(ValueError, match="verts"):  # a new vertex count would orphan colours
        Mesh(m.verts, m.faces, colors=torch.rand(V, 3)).verts = torch.rand(V + 1, 3)
