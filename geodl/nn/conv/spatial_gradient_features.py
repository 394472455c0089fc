from __future__ import annotations

import torch
from torch import Tensor

from geodl.nn.conv.base import GraphLayer


class SpatialGradientFeatures(GraphLayer):
    r"""Rotation-invariant features from tangent gradients (DiffusionNet,
    Sharp et al. 2022).

    With the per-vertex gradient :math:`g_c = (\nabla_x x_c) + i(\nabla_y x_c)`
    of each channel as a complex number in the vertex's tangent frame, a
    learned complex matrix :math:`A = A_{re} + iA_{im}` mixes channels and

    .. math:: f_c = \tanh\big(\mathrm{Re}(\overline{g_c}\,(A g)_c)\big),

    a dot product between gradients that is unchanged by any rotation of the
    tangent frames (:math:`g \to e^{i\theta}g` cancels): the features do not
    depend on the arbitrary choice of frame. Without rotations (``with_rotations=False``)
    :math:`A` is real.

    Shapes:
        - **input:** ``x`` :math:`(N, C)`, ``ops``: :class:`DiffusionOperators`
        - **output:** :math:`(N, C)`
    """

    def __init__(self, channels: int, with_rotations: bool = True) -> None:
        super().__init__()
        self.channels, self.with_rotations = channels, with_rotations
        self.a_re = torch.nn.Linear(channels, channels, bias=False)
        self.a_im = torch.nn.Linear(channels, channels, bias=False) if with_rotations else None

    def reset_parameters(self) -> None:
        self.a_re.reset_parameters()
        if self.a_im is not None:
            self.a_im.reset_parameters()

    def gradients(self, x: Tensor, ops) -> tuple[Tensor, Tensor]:
        """(N, C) e1 and e2 components of each channel's tangent gradient."""
        op = ops.gradient_operator()
        gx = op.matmul(ops.grad_x.to(x.dtype), x)
        gy = op.matmul(ops.grad_y.to(x.dtype), x)
        return gx, gy

    def forward(self, x: Tensor, ops) -> Tensor:
        self.check_dtype(x)
        gx, gy = self.gradients(x, ops)
        if self.a_im is None:
            bx, by = self.a_re(gx), self.a_re(gy)
        else:
            bx = self.a_re(gx) - self.a_im(gy)
            by = self.a_re(gy) + self.a_im(gx)
        return torch.tanh(gx * bx + gy * by)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, with_rotations={self.with_rotations})"
