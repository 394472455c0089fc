"""Deformed shapes (geodl.datasets.deformed_shapes): seeded, valid, and in
correspondence."""
import torch


def test_deformed_shapes_are_seeded_valid_and_in_correspondence():
    from geodl.datasets.deformed_shapes import CLASSES, correspondence, make_shape
    a, b = make_shape(2, 0), make_shape(2, 0)
    assert torch.equal(a.mesh.verts, b.mesh.verts) and torch.equal(a.mesh.faces, b.mesh.faces)
    for cls in range(len(CLASSES)):
        s = make_shape(cls, 3)
        report = s.mesh.check()
        assert report.ok and report.is_closed and report.euler_characteristic == 2
        assert torch.allclose(s.sphere_coords.norm(dim=1), torch.ones(s.mesh.num_verts,
                                                                      dtype=torch.float64))
    # two remeshings of the same undeformed, unrotated shape: corresponding
    # vertices (same sphere coordinate) are the same material point
    x = make_shape(4, 1, deformation=0.0, rotate=False)
    y = make_shape(4, 2, deformation=0.0, rotate=False)
    assert not torch.equal(x.mesh.faces[:10], y.mesh.faces[:10])  # different meshes
    match = correspondence(x, y)
    gap = (x.mesh.verts64 - y.mesh.verts64[match]).norm(dim=1)
    assert float(gap.mean()) < 1.5 * y.mesh.mean_edge_length
    assert torch.equal(correspondence(x, x), torch.arange(x.mesh.num_verts))
