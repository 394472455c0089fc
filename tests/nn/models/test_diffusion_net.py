"""DiffusionNet: exact diffusion of eigenfunctions, gradients, invariances."""
import pytest
import torch

from geodl import ops
from geodl.nn import DiffusionOperators
from geodl.nn.conv import DiffusionBlock, LearnedTimeDiffusion, SpatialGradientFeatures
from geodl.nn.models import DiffusionNet
from geodl.structures import Mesh, PointCloud
from geodl.testing import assert_gradcheck, random_rotation


@pytest.fixture(scope="module")
def sphere_ops():
    m = Mesh.icosphere(2)
    return m, DiffusionOperators.from_mesh(m, k=40)


@pytest.mark.parametrize("method", ["spectral", "implicit"])
def test_diffusion_of_an_eigenfunction_is_exact(sphere_ops, method):
    m, dops = sphere_ops
    times = torch.tensor([0.01, 0.3, 2.0], dtype=torch.float64)
    d = LearnedTimeDiffusion(3, method).double()
    with torch.no_grad():
        d.diffusion_time.copy_(times)
    for j in (1, 7, 20):
        phi = dops.evecs[:, j:j + 1].expand(-1, 3)
        lam = dops.evals[0, j]
        gain = torch.exp(-lam * times) if method == "spectral" else 1 / (1 + lam * times)
        assert torch.allclose(d(phi.contiguous(), dops), phi * gain, atol=1e-8)


@pytest.mark.parametrize("method", ["spectral", "implicit"])
def test_diffusion_gradcheck_including_time(sphere_ops, method):
    _, dops = sphere_ops
    d = LearnedTimeDiffusion(2, method).double()
    x = torch.randn(dops.num_nodes, 2, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.05, 0.4], dtype=torch.float64, requires_grad=True)

    assert torch.autograd.gradcheck(lambda x, t: _diffuse_with_time(d, x, t, dops), (x, t),
                                    atol=1e-6, rtol=1e-4)


def _diffuse_with_time(d, x, t, dops):
    """Call the layer with ``t`` as a differentiable input (the parameter is abs(t))."""
    saved = d.diffusion_time
    del d.diffusion_time
    d.diffusion_time = t
    try:
        return d(x, dops)
    finally:
        d.diffusion_time = saved


def test_gradient_operator_is_exact_for_linear_functions():
    m = Mesh.grid(7, 9, spacing=0.2)
    frames = ops.tangent_frames(torch.tensor([[0.0, 0.0, 1.0]]).expand(m.num_verts, 3))
    row, col, gx, gy = ops.gradient_operator_entries(m.verts64, frames, m.edge_index)
    a = torch.tensor([0.3, -1.2, 0.0], dtype=torch.float64)
    f = m.verts64 @ a
    n = m.num_verts
    Gx = torch.zeros(n, n, dtype=torch.float64).index_put_((row, col), gx, accumulate=True)
    Gy = torch.zeros(n, n, dtype=torch.float64).index_put_((row, col), gy, accumulate=True)
    assert torch.allclose(Gx @ f, frames[:, 0] @ a, atol=1e-6)
    assert torch.allclose(Gy @ f, frames[:, 1] @ a, atol=1e-6)


def test_gradient_features_ignore_the_tangent_frame_choice(sphere_ops):
    """Rotating every tangent frame by its own random angle rotates each
    gradient (gx + i gy) by that angle; the features must not change."""
    m, dops = sphere_ops
    feats = SpatialGradientFeatures(4).double()
    x = torch.randn(dops.num_nodes, 4, dtype=torch.float64)
    base = feats(x, dops)
    theta = torch.rand(dops.num_nodes, dtype=torch.float64) * 6.28
    n = dops.grad_index[0]
    c, s = torch.cos(theta)[n], torch.sin(theta)[n]
    rotated = DiffusionOperators(**{**dops.__dict__, "_ops": {},
                                    "grad_x": c * dops.grad_x + s * dops.grad_y,
                                    "grad_y": -s * dops.grad_x + c * dops.grad_y})
    assert torch.allclose(feats(x, rotated), base, atol=1e-10)
    no_rot = SpatialGradientFeatures(4, with_rotations=False).double()
    assert no_rot(x, dops).shape == base.shape


def test_diffusion_net_is_rigid_invariant_on_intrinsic_input():
    """HKS input + intrinsic operators: the whole network ignores rigid motions."""
    m = Mesh.icosphere(2)
    g = torch.Generator().manual_seed(0)
    m = Mesh(m.verts64 * (1 + 0.1 * torch.rand(m.num_verts, 1, generator=g, dtype=torch.float64)),
             m.faces)
    net = DiffusionNet(4, 3, width=16, n_blocks=2).double()
    t = torch.tensor([0.01, 0.05, 0.2, 1.0], dtype=torch.float64)
    out = net(m.hks(t, k=40), DiffusionOperators.from_mesh(m, k=40))
    R = random_rotation(2)
    moved = Mesh(m.verts64 @ R.T + 3.0, m.faces)
    out2 = net(moved.hks(t, k=40), DiffusionOperators.from_mesh(moved, k=40))
    assert torch.allclose(out, out2, atol=1e-6)


def test_diffusion_net_batch_permutation_gradcheck():
    a, b = Mesh.icosphere(1), Mesh.torus(n_major=10, n_minor=5)
    oa, ob = DiffusionOperators.from_mesh(a, k=20), DiffusionOperators.from_mesh(b, k=20)
    both = DiffusionOperators.collate([oa, ob])
    net = DiffusionNet(3, 2, width=8, n_blocks=1).double()
    xa, xb = a.verts64, b.verts64
    out = net(torch.cat([xa, xb]), both)
    assert torch.allclose(out[:a.num_verts], net(xa, oa), atol=1e-10)
    assert torch.allclose(out[a.num_verts:], net(xb, ob), atol=1e-10)
    glob = DiffusionNet(3, 2, width=8, n_blocks=1, outputs_at="global_mean").double()
    glob.load_state_dict(net.state_dict())
    g = glob(torch.cat([xa, xb]), both)
    assert g.shape == (2, 2) and torch.allclose(g[1], glob(xb, ob)[0], atol=1e-10)
    # vertex permutation: relabel the vertices of b
    perm = torch.randperm(b.num_verts, generator=torch.Generator().manual_seed(0))
    inv = torch.argsort(perm)
    bp = Mesh(b.verts64[perm], inv[b.faces])
    outp = net(bp.verts64, DiffusionOperators.from_mesh(bp, k=20))
    assert torch.allclose(outp, net(xb, ob)[perm], atol=1e-8)
    small = DiffusionNet(3, 2, width=4, n_blocks=1)
    assert_gradcheck(lambda x: small.double()(x, oa), xa)


def test_diffusion_net_on_point_clouds_and_implicit_blocks():
    m = Mesh.icosphere(2)
    pc_ops = DiffusionOperators.from_point_cloud(PointCloud(m.verts64), k=20, neighbours=12)
    assert abs(float(pc_ops.evals[0, 1]) - 2.0) < 0.1  # the sphere's first nonzero eigenvalue
    block = DiffusionBlock(6, diffusion_method="implicit").double()
    x = torch.randn(m.num_verts, 6, dtype=torch.float64)
    assert block(x, pc_ops).shape == x.shape
    with pytest.raises(ValueError, match="x: expected shape"):
        DiffusionNet(3, 2)(torch.randn(5, 3), pc_ops)
    with pytest.raises(ValueError, match="method"):
        LearnedTimeDiffusion(3, "explicit")


def test_gradient_features_without_rotations_by_hand():
    """Real A (no rotations): for linear channels x_c = a_c . p on a flat grid
    the tangent gradients are exact, so f_c = tanh(sum_c' A[c, c'] <a_c, a_c'>)
    with <,> the in-plane dot product; and rotating the tangent frames
    changes nothing."""
    m = Mesh.grid(7, 9, spacing=0.2)
    dops = DiffusionOperators.from_mesh(m, k=20)
    a = torch.tensor([[0.3, -1.2, 0.0], [0.8, 0.5, 0.0], [-0.4, 0.1, 0.0]], dtype=torch.float64)
    x = m.verts64 @ a.T  # (V, 3) linear channels
    feats = SpatialGradientFeatures(3, with_rotations=False).double()
    W = feats.a_re.weight.detach()
    expect = torch.tanh((W * (a[:, :2] @ a[:, :2].T)).sum(1))  # (3,)
    out = feats(x, dops)
    assert torch.allclose(out, expect.expand_as(out), atol=1e-6)
    theta = torch.rand(dops.num_nodes, dtype=torch.float64,
                       generator=torch.Generator().manual_seed(1)) * 6.28
    n = dops.grad_index[0]
    c, s = torch.cos(theta)[n], torch.sin(theta)[n]
    rotated = DiffusionOperators(**{**dops.__dict__, "_ops": {},
                                    "grad_x": c * dops.grad_x + s * dops.grad_y,
                                    "grad_y": -s * dops.grad_x + c * dops.grad_y})
    y = torch.randn(dops.num_nodes, 3, dtype=torch.float64)
    assert torch.allclose(feats(y, rotated), feats(y, dops), atol=1e-10)


def test_diffusion_net_without_rotations_is_rigid_invariant_and_differs_from_with():
    m = Mesh.icosphere(2)
    g = torch.Generator().manual_seed(0)
    m = Mesh(m.verts64 * (1 + 0.1 * torch.rand(m.num_verts, 1, generator=g, dtype=torch.float64)),
             m.faces)
    t = torch.tensor([0.01, 0.05, 0.2, 1.0], dtype=torch.float64)
    torch.manual_seed(0)
    net = DiffusionNet(4, 3, width=16, n_blocks=2).double()
    for block in net.blocks:
        block.gradient_features = SpatialGradientFeatures(16, with_rotations=False).double()
    out = net(m.hks(t, k=40), DiffusionOperators.from_mesh(m, k=40))
    R = random_rotation(3)
    moved = Mesh(m.verts64 @ R.T - 2.0, m.faces)
    out2 = net(moved.hks(t, k=40), DiffusionOperators.from_mesh(moved, k=40))
    assert torch.allclose(out, out2, atol=1e-6)
    assert out.abs().max() > 1e-3 and out.std() > 1e-4  # not a constant output


@pytest.fixture(scope="module")
def cloud_ops():
    m = Mesh.icosphere(2)
    return m, DiffusionOperators.from_point_cloud(PointCloud(m.verts64), k=20, neighbours=12)


def test_implicit_diffusion_on_a_point_cloud_is_exact_on_eigenvectors(cloud_ops):
    """(M + tL)^-1 M phi_j = phi_j / (1 + lambda_j t) for the cloud's own
    eigenpairs; the spectral version gives exp(-lambda_j t) phi_j."""
    _, dops = cloud_ops
    times = torch.tensor([0.02, 0.3, 1.5], dtype=torch.float64)
    implicit = LearnedTimeDiffusion(3, "implicit").double()
    spectral = LearnedTimeDiffusion(3, "spectral").double()
    with torch.no_grad():
        implicit.diffusion_time.copy_(times)
        spectral.diffusion_time.copy_(times)
    for j in (1, 5, 15):
        phi = dops.evecs[:, j:j + 1].expand(-1, 3).contiguous()
        lam = dops.evals[0, j]
        assert torch.allclose(implicit(phi, dops), phi / (1 + lam * times), atol=1e-7)
        assert torch.allclose(spectral(phi, dops), phi * torch.exp(-lam * times), atol=1e-8)


def test_implicit_and_spectral_diffusion_agree_on_smooth_point_cloud_signals(cloud_ops):
    """For a signal in the span of the first eigenvectors and a short time,
    1/(1 + lambda t) and exp(-lambda t) agree to O((lambda t)^2)."""
    _, dops = cloud_ops
    coeff = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    x = dops.evecs[:, :6] @ coeff
    t = 1e-3
    outs = []
    for method in ("implicit", "spectral"):
        d = LearnedTimeDiffusion(2, method, init_time=t).double()
        outs.append(d(x, dops))
    lam_t = float(dops.evals[0, 5]) * t
    assert torch.allclose(outs[0], outs[1], atol=lam_t ** 2 * float(x.abs().max()) + 1e-9)
    assert not torch.allclose(outs[0], x, atol=1e-6)  # it did diffuse


def test_implicit_block_on_point_clouds_is_rigid_invariant(cloud_ops):
    """Intrinsic input (heat kernel signature of the cloud's own spectrum) and
    intrinsic operators: a rotated, shifted cloud gives the same output."""
    m, _ = cloud_ops
    R = random_rotation(4)
    # normals given (the sphere's radial ones, rotated with the cloud): Open3D's
    # consistent orientation needs Qhull, which refuses exactly cospherical points
    n = m.verts64 / m.verts64.norm(dim=1, keepdim=True)
    dops = DiffusionOperators.from_point_cloud(PointCloud(m.verts64, normals=n),
                                               k=20, neighbours=12)
    moved_ops = DiffusionOperators.from_point_cloud(
        PointCloud(m.verts64 @ R.T + 1.5, normals=n @ R.T), k=20, neighbours=12)
    t = torch.tensor([0.05, 0.2, 0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    hks = ops.heat_kernel_signature(dops.evals[0], dops.evecs, t)
    hks2 = ops.heat_kernel_signature(moved_ops.evals[0], moved_ops.evecs, t)
    assert torch.allclose(hks, hks2, atol=1e-6)
    torch.manual_seed(0)
    block = DiffusionBlock(6, diffusion_method="implicit").double()
    with torch.no_grad():
        block.diffusion.diffusion_time.fill_(0.1)
    out, out2 = block(hks, dops), block(hks2, moved_ops)
    assert torch.allclose(out, out2, atol=1e-6)
    assert not torch.allclose(out, hks, atol=1e-3)  # the block changed its input
