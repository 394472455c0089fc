from __future__ import annotations

import torch
from torch import Tensor

from geodl.nn.spectral import from_spectral, to_spectral
from geodl.ops.spmm import SparseOperator
from geodl.ops.validation import check_features


class LearnedTimeDiffusion(torch.nn.Module):
    r"""Heat diffusion with a learned time per channel, from `"DiffusionNet:
    Discretization Agnostic Learning on Surfaces"
    <https://arxiv.org/abs/2012.00888>`_ (Sharp, Attaiki, Crane & Ovsjanikov, 2022).

    Channel :math:`c` of :math:`\mathbf{X}` diffuses for time :math:`t_c \ge 0`:

    * ``"spectral"``: :math:`\mathbf{h}_c = \mathbf{\Phi}\,e^{-t_c\mathbf{\Lambda}}
      \mathbf{\Phi}^\top\mathbf{M}\mathbf{x}_c` on the truncated eigenbasis;
    * ``"implicit"``: one backward-Euler step,
      :math:`(\mathbf{M} + t_c\mathbf{L})\,\mathbf{h}_c = \mathbf{M}\mathbf{x}_c`,
      solved for all channels at once by Jacobi-preconditioned conjugate
      gradients (one sparse product per iteration); its gradient solves the
      same symmetric system again (adjoint method), and
      :math:`\partial/\partial t_c = -\mathbf{a}_c^\top\mathbf{L}\mathbf{h}_c`.

    The learned diffusion time lets each channel choose its own spatial
    support, from a point to the whole shape: a convolution whose radius is
    learned and that does not depend on the mesh's sampling.

    Args:
        channels: number of channels C.
        method: ``"spectral"`` or ``"implicit"``.
        init_time: initial :math:`t_c` (the parameter's absolute value is used).

    Shapes:
        - **input:** ``x`` :math:`(N, C)`, ``ops``: :class:`DiffusionOperators`
        - **output:** :math:`(N, C)`
    """

    def __init__(self, channels: int, method: str = "spectral", init_time: float = 1e-3,
                 cg_tol: float | None = None, cg_max_iter: int = 5000) -> None:
        super().__init__()
        if method not in ("spectral", "implicit"):
            raise ValueError(f"method: expected 'spectral' or 'implicit', got {method!r}")
        self.channels, self.method, self.init_time = channels, method, init_time
        self.cg_tol, self.cg_max_iter = cg_tol, cg_max_iter
        self.diffusion_time = torch.nn.Parameter(torch.empty(channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.constant_(self.diffusion_time, self.init_time)

    @property
    def times(self) -> Tensor:
        return self.diffusion_time.abs()

    def forward(self, x: Tensor, ops) -> Tensor:
        check_features(x, self.channels, ops.num_nodes)
        t = self.times.to(x.dtype)
        if self.method == "spectral":
            coeffs = to_spectral(x, ops.evecs, ops.mass, ops.batch)  # (B, k, C)
            decay = torch.exp(-ops.evals.to(x.dtype)[:, :, None] * t[None, None, :])
            return from_spectral(coeffs * decay, ops.evecs, ops.batch)
        tol = self.cg_tol if self.cg_tol is not None else (
            1e-10 if x.dtype == torch.float64 else 1e-6)
        op = ops.laplacian_operator()
        lap = op.sort_values(ops.lap_value.to(x.dtype))
        return _ImplicitDiffusion.apply(x, t, ops.mass.to(x.dtype), op, lap, tol, self.cg_max_iter)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, method={self.method!r})"


def _cg(op: SparseOperator, lap: Tensor, diag_l: Tensor, mass: Tensor, t: Tensor, b: Tensor,
        tol: float, max_iter: int) -> Tensor:
    """Solve (M + t_c L) u_c = b_c for every channel c (columns), Jacobi-preconditioned CG."""
    def apply(u: Tensor) -> Tensor:
        return mass[:, None] * u + t[None, :] * op.matmul(lap, u, presorted=True)

    pre = 1.0 / (mass[:, None] + t[None, :] * diag_l[:, None])
    u = pre * b
    r = b - apply(u)
    z = pre * r
    p = z.clone()
    rz = (r * z).sum(0)
    bnorm = b.norm(dim=0).clamp_min(torch.finfo(b.dtype).tiny)
    for _ in range(max_iter):
        if bool((r.norm(dim=0) <= tol * bnorm).all()):
            return u
        ap = apply(p)
        alpha = rz / (p * ap).sum(0).clamp_min(torch.finfo(b.dtype).tiny)
        u = u + alpha * p
        r = r - alpha * ap
        z = pre * r
        rz_new = (r * z).sum(0)
        p = z + (rz_new / rz.clamp_min(torch.finfo(b.dtype).tiny)) * p
        rz = rz_new
    raise RuntimeError(f"implicit diffusion: conjugate gradients did not reach tolerance {tol} "
                       f"in {max_iter} iterations (very large diffusion times?)")


class _ImplicitDiffusion(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, t, mass, op, lap, tol, max_iter):
        diag_l = torch.zeros(op.shape[0], dtype=x.dtype, device=x.device).index_add_(
            0, op.row[op.row == op.col], lap[op.row == op.col])
        with torch.no_grad():
            u = _cg(op, lap, diag_l, mass, t.detach(), mass[:, None] * x.detach(), tol, max_iter)
        ctx.save_for_backward(t, mass, lap, diag_l, u)
        ctx.op, ctx.tol, ctx.max_iter = op, tol, max_iter
        return u

    @staticmethod
    def backward(ctx, grad):
        t, mass, lap, diag_l, u = ctx.saved_tensors
        op = ctx.op
        with torch.no_grad():
            a = _cg(op, lap, diag_l, mass, t, grad.contiguous(), ctx.tol, ctx.max_iter)
            grad_x = mass[:, None] * a
            grad_t = -(a * op.matmul(lap, u, presorted=True)).sum(0)
        return grad_x, grad_t, None, None, None, None, None
