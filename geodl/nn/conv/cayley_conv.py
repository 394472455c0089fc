from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.laplacian import laplacian_entries
from geodl.nn.conv.propagation import GraphStructure
from geodl.nn.inits import glorot_linear
from geodl.ops.validation import check_channels


class CayleyConv(GraphLayer):
    r"""Cayley polynomial filters from `"CayleyNets: Graph Convolutional Neural
    Networks with Complex Rational Spectral Filters"
    <https://arxiv.org/abs/1705.07664>`_ (Levie, Monti, Bresson & Bronstein, 2018).

    .. math::
        \mathbf{y}_o = \sum_i c_{0,io}\,\mathbf{x}_i
        + 2\,\mathrm{Re}\sum_{j=1}^{r} c_{j,io}\,
        \mathcal{C}(h\mathbf{L})^j\,\mathbf{x}_i + b_o,
        \qquad \mathcal{C}(h\mathbf{L}) = (h\mathbf{L} - i\mathbf{I})
        (h\mathbf{L} + i\mathbf{I})^{-1},

    with real :math:`c_0`, complex :math:`c_j` and a learned spectral zoom
    :math:`h > 0`: the Cayley transform maps the spectrum onto the unit
    circle, and :math:`h` spreads the band of interest over it, so a low-order
    rational filter can be narrow-band. :math:`\mathcal{C}^j\mathbf{x}` is
    computed as :math:`z_j = (h\mathbf{L} + i\mathbf{I})^{-1}(h\mathbf{L} - i\mathbf{I})z_{j-1}`
    with ``jacobi_iterations`` Jacobi steps per inverse (the paper's choice:
    :math:`h\mathbf{L} + i\mathbf{I}` is strictly diagonally dominant for the
    normalised Laplacian, so Jacobi always converges, at rate
    :math:`h/\sqrt{h^2 + 1}`).

    Args:
        in_channels, out_channels: feature sizes.
        r: order of the Cayley polynomial (>= 1).
        jacobi_iterations: Jacobi steps per inverse (>= 1).
        normalization: Laplacian (``"sym"`` as in the paper, ``"rw"`` or ``None``).
        zoom: initial :math:`h`.
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`,
          ``edge_weight`` :math:`(E,)` *(optional)*
        - **output:** :math:`(N, F_{out})`
    """

    adjacency_values = "edge_weight"

    def __init__(self, in_channels: int, out_channels: int, r: int = 3,
                 jacobi_iterations: int = 10, normalization: str | None = "sym",
                 zoom: float = 1.0, bias: bool = True) -> None:
        super().__init__()
        check_channels(in_channels, "in_channels")
        check_channels(out_channels, "out_channels")
        if r < 1 or jacobi_iterations < 1:
            raise ValueError(f"r and jacobi_iterations: expected >= 1, got {r}, {jacobi_iterations}")
        if not zoom > 0:
            raise ValueError(f"zoom: expected > 0, got {zoom}")
        if normalization not in (None, "sym", "rw"):
            raise ValueError(f"normalization: expected None, 'sym' or 'rw', got {normalization!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.r, self.jacobi_iterations, self.normalization = r, jacobi_iterations, normalization
        self.lin0 = torch.nn.Linear(in_channels, out_channels, bias=False)
        self.real = torch.nn.Parameter(torch.empty(r, in_channels, out_channels))
        self.imag = torch.nn.Parameter(torch.empty(r, in_channels, out_channels))
        self.log_zoom = torch.nn.Parameter(torch.tensor(math.log(zoom)))
        self._zoom0 = zoom
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_linear(self.lin0)
        a = math.sqrt(6.0 / (self.in_channels + self.out_channels)) / math.sqrt(2 * self.r)
        torch.nn.init.uniform_(self.real, -a, a)
        torch.nn.init.uniform_(self.imag, -a, a)
        with torch.no_grad():
            self.log_zoom.fill_(math.log(self._zoom0))
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    @property
    def nonnegative_edge_weight(self) -> bool:
        return self.normalization is not None

    @property
    def zoom(self) -> Tensor:
        return self.log_zoom.exp()

    def cayley_powers(self, x: Tensor, s: GraphStructure, lap: Tensor, diag: Tensor
                      ) -> list[tuple[Tensor, Tensor]]:
        """[(Re z_j, Im z_j)] for j = 1..r, z_0 = x; ``lap`` the Laplacian's
        entry-order values on ``s`` (diagonal last), ``diag`` its diagonal."""
        h = self.zoom.to(x.dtype)
        hd = h * diag
        inv_re = hd / (hd * hd + 1.0)  # 1 / (h d + i) = (h d - i) / (h^2 d^2 + 1)
        inv_im = -1.0 / (hd * hd + 1.0)
        # off-diagonal part: the diagonal entries (last N) set to 0
        off = h * s.sort(torch.cat([lap[:s.num_edges], torch.zeros_like(diag)]))
        c = x.shape[1]
        op = s.op

        def off_mul(re: Tensor, im: Tensor) -> tuple[Tensor, Tensor]:
            # real and imaginary parts share one sparse product
            both = op.matmul(off, torch.cat([re, im], 1), presorted=True)
            return both[:, :c], both[:, c:]

        def dinv(re: Tensor, im: Tensor) -> tuple[Tensor, Tensor]:
            a, b = inv_re[:, None], inv_im[:, None]
            return a * re - b * im, a * im + b * re

        out = []
        re, im = x, torch.zeros_like(x)
        for _ in range(self.r):
            # b = (hL - i) z = h d z + h offdiag(L) z - i z
            ore, oim = off_mul(re, im)
            b_re = hd[:, None] * re + ore + im
            b_im = hd[:, None] * im + oim - re
            # Jacobi for (hL + i) z = b: z <- D^-1 (b - offdiag z), D = h d + i
            z_re, z_im = dinv(b_re, b_im)
            for _ in range(self.jacobi_iterations - 1):
                ore, oim = off_mul(z_re, z_im)
                z_re, z_im = dinv(b_re - ore, b_im - oim)
            re, im = z_re, z_im
            out.append((re, im))
        return out

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        inp = self.prepare(x, edge_index, edge_weight=edge_weight)
        s = inp.structure(self_loops=True)
        lap, _ = laplacian_entries(s, inp.edge_index, inp.edge_weight, self.normalization, x.dtype)
        diag = lap[s.num_edges:]
        out = self.lin0(x)
        for j, (re, im) in enumerate(self.cayley_powers(x, s, lap, diag)):
            out = out + 2.0 * (re @ self.real[j] - im @ self.imag[j])
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, r={self.r}, "
                f"jacobi_iterations={self.jacobi_iterations})")

