"""A mesh's and a point cloud's cached quantities follow in-place edits of their
tensors, and a mesh owns its arrays."""
import pytest
import torch

from geodl.structures import Mesh


def _edits():
    """In-place edits of a mesh's tensors, each through torch."""
    def setitem(m):
        m.verts[0] = m.verts[0] * 1.5

    def mul_(m):
        m.verts.mul_(2.0)

    def view_add(m):
        m.verts[:, 2].add_(0.1 * m.verts[:, 0] ** 2)

    def assign(m):
        m.verts = m.verts * torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)

    def faces_flip(m):
        m.faces[:] = m.faces.flip(1)  # orientation reversed: normals flip

    return {"setitem": setitem, "mul_": mul_, "view add_": view_add, "assign": assign,
            "faces flip": faces_flip}


@pytest.mark.parametrize("edit", list(_edits()))
def test_editing_a_mesh_in_place_invalidates_its_caches(tmp_path, edit):
    """Every cached quantity after an edit equals a fresh mesh's."""
    m = Mesh.icosphere(2)
    before = (m.eigen(6, cache_dir=tmp_path)[0].clone(), m.laplacian().to_dense().clone(),
              m.mass().clone(), m.face_normals.clone(), m.geodesic(0).clone())
    _edits()[edit](m)
    fresh = Mesh(m.verts.clone(), m.faces.clone())
    after = (m.eigen(6, cache_dir=tmp_path)[0], m.laplacian().to_dense(), m.mass(),
             m.face_normals, m.geodesic(0))
    expect = (fresh.eigen(6, cache_dir=False)[0], fresh.laplacian().to_dense(), fresh.mass(),
              fresh.face_normals, fresh.geodesic(0))
    for a, e in zip(after, expect):
        assert torch.allclose(a, e, atol=1e-10)
    # and the edit did change something the cache had stored
    assert any(not torch.allclose(a, b, atol=1e-10) for a, b in zip(after, before))


def test_mesh_owns_its_arrays():
    """An array the caller edits afterwards does not change the mesh."""
    v = Mesh.icosphere(1).verts.numpy().copy()
    m = Mesh(v, Mesh.icosphere(1).faces)
    area = m.area
    v *= 3.0
    assert m.area == area and Mesh(v, m.faces).area == pytest.approx(9 * area)


def test_point_cloud_laplacian_follows_edits():
    from geodl.structures import PointCloud

    g = torch.Generator().manual_seed(0)
    p = torch.randn(300, 3, generator=g, dtype=torch.float64)
    pc = PointCloud(p / p.norm(dim=1, keepdim=True))
    L0 = pc.laplacian(10)[0].to_dense().clone()
    pc.points.mul_(torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64))  # cotans change
    L1, M1 = pc.laplacian(10)
    Lf, Mf = PointCloud(pc.points.clone()).laplacian(10)
    assert torch.allclose(L1.to_dense(), Lf.to_dense()) and torch.allclose(M1, Mf)
    assert not torch.allclose(L0, L1.to_dense())
