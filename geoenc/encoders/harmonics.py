"""Real spherical harmonics (Rußwurm et al., ICLR 2024 "Geographic location encoding with spherical
harmonics and sinusoidal representation networks"; SatCLIP, Klemmer et al. 2023).

The associated Legendre functions are computed with the fully normalised three-term recurrence
(stable, O(L²) per point, vectorised over the order m; the only Python loop runs over the degree l):

* ``P̄_0^0 = 1/√(4π)``, ``P̄_m^m = √((2m+1)/(2m)) · sin θ · P̄_{m−1}^{m−1}``
* ``P̄_l^m = a_lm (cos θ · P̄_{l−1}^m − b_lm P̄_{l−2}^m)``,
  ``a_lm = √((4l²−1)/(l²−m²))``, ``b_lm = √(((l−1)²−m²)/(4(l−1)²−1))``

with θ the colatitude (cos θ = sin φ̂, sin θ = cos φ̂, no square root, so it is exact and finite at
the poles). Then ``Y_l^0 = P̄_l^0``, ``Y_l^m = √2 P̄_l^m cos(mλ̂)``, ``Y_l^{−m} = √2 P̄_l^m sin(mλ̂)``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from geoenc.encoders.base import PositionEncoder, cast_like, check_choice, check_int
from geoenc.encoders.phase import reduce_turns
from geoenc.encoders.registry import register

CONVENTIONS = ("orthonormal", "satclip")


def _mirrored_tables(degree: int, m0_factor: float) -> tuple[Tensor, Tensor, Tensor]:
    """Recurrence coefficients laid out on the mirrored order axis ``j = L−1+m``, m = −(L−1)…L−1.

    Returns ``A``, ``AB`` of shape (L, 2L−1) (row l holds ``a_l|m|`` and ``a_l|m|·b_l|m|``, zero where
    unused) and the diagonal constants ``D`` of shape (2L−1,): ``c_|m|``, times √2 for m ≠ 0 and
    ``m0_factor`` for m = 0. The recurrence is linear and its coefficients depend on |m| only, so a
    per-column factor put on the diagonal carries through every degree.
    """
    L = degree
    width = 2 * L - 1
    m = (torch.arange(width, dtype=torch.float64) - (L - 1)).abs()
    A = torch.zeros(L, width, dtype=torch.float64)
    AB = torch.zeros(L, width, dtype=torch.float64)
    for l in range(1, L):
        use = m < l
        A[l, use] = torch.sqrt((4.0 * l * l - 1.0) / (l * l - m[use] ** 2))
        if l >= 2:
            use2 = m < l - 1
            b = torch.sqrt(((l - 1.0) ** 2 - m[use2] ** 2) / (4.0 * (l - 1.0) ** 2 - 1.0))
            AB[l, use2] = A[l, use2] * b
    k = torch.arange(1, L, dtype=torch.float64)
    c = torch.cat(
        (torch.ones(1, dtype=torch.float64), torch.cumprod(torch.sqrt((2.0 * k + 1.0) / (2.0 * k)), 0))
    ) / math.sqrt(4.0 * math.pi)
    D = c[m.long()] * torch.where(m == 0, torch.full_like(m, m0_factor), torch.full_like(m, math.sqrt(2.0)))
    return A, AB, D


@register("sh")
class SphericalHarmonics(PositionEncoder):
    r"""Real spherical harmonics ``Y_l^m`` for l = 0…L−1, m = −l…l: L² features (``degree`` = L).

    Columns are ordered by l, then m from −l to l (index ``l² + l + m``), as in SatCLIP.
    ``convention``:

    * ``orthonormal`` (default): orthonormal real harmonics on the unit sphere, θ = colatitude,
      ϕ = λ̂, Condon–Shortley phase cancelled (the usual real-harmonics convention).
    * ``satclip``: matches SatCLIP's released weights (its generated formulas): no Condon–Shortley
      phase, θ = φ̂ + π/2 and ϕ = λ̂ + π, which multiplies degree l by (−1)^l, and an extra factor π on
      every m = 0 column (a missing-parentheses bug in SatCLIP's generator, satclip issue #33).
    """

    dim_formula = "L²"
    summary = "real spherical harmonics up to degree L−1 (Rußwurm et al. 2024), with SIREN"
    default_net = "siren"
    param_docs: ClassVar[dict[str, str]] = {
        "degree": "number of degrees L (l = 0..L-1), output L² features",
        "convention": "orthonormal (default) or satclip (SatCLIP's released-weights convention)",
    }
    # buffers: the recurrence tables of _mirrored_tables
    rec_a: Tensor
    rec_ab: Tensor
    rec_d: Tensor

    def __init__(self, *, degree: int = 10, convention: str = "orthonormal") -> None:
        super().__init__()
        check_int("degree", degree, 1, 128)
        check_choice("convention", convention, CONVENTIONS)
        self.degree = degree
        self.convention = convention
        A, AB, D = _mirrored_tables(degree, math.pi if convention == "satclip" else 1.0)
        self.register_buffer("rec_a", A, persistent=False)
        self.register_buffer("rec_ab", AB, persistent=False)
        self.register_buffer("rec_d", D, persistent=False)
        self._remember(degree=degree, convention=convention)

    @property
    def embedding_dim(self) -> int:
        return self.degree * self.degree

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        ll = prep[0].double()
        L = self.degree
        n = ll.shape[0]
        c = L - 1  # index of m = 0 on the mirrored order axis
        lon_deg, lat = ll[:, 0], torch.deg2rad(ll[:, 1])
        # The recurrence runs in float64 whatever the output dtype: it amplifies the rounding of x = cos θ about l²
        # times, so in float32 it drifts from the float64 formula by ~1e-5 at L = 20 and ~1e-4 at L = 128.
        if self.convention == "satclip":  # SatCLIP's angles: θ = φ̂ + π/2, ϕ = λ̂ + π
            x, s = -torch.sin(lat), torch.cos(lat)  # cos θ, sin θ ≥ 0 (exact at the poles, no square root)
            lon_deg = lon_deg + 180.0
        else:
            x, s = torch.sin(lat), torch.cos(lat)
        # m·ϕ for m = 1…L−1 in turns (m·λ°/360), reduced exactly: |angle| ≤ π
        m = torch.arange(1, L, device=ll.device, dtype=torch.float64)[:, None]
        ang = reduce_turns(m * (lon_deg / 360.0))  # (L−1, N)
        # Everything below is laid out (orders, points): each operation then runs along the points,
        # contiguously, instead of along a handful of orders.
        A = cast_like(self.rec_a, x)[:, :, None]
        AB = cast_like(self.rec_ab, x)[:, :, None]
        # s^m for m = 0…L−1 by repeated doubling (no pow), times the diagonal constants
        powers = torch.stack((torch.ones_like(s), s))
        while powers.shape[0] < L:
            powers = torch.cat((powers, powers * (powers[-1] * s)))
        diag = powers[:L] * cast_like(self.rec_d[c:], x)[:, None]  # (L, N): P̄_m^m with its column factor
        # trig on the mirrored axis: sin(|m|ϕ) for m < 0, 1 for m = 0, cos(mϕ) for m > 0
        trig = torch.cat((torch.sin(ang).flip(0), torch.ones_like(x)[None], torch.cos(ang)))
        prev2 = prev1 = diag[0:1]  # degree 0 (prev2 unused until l = 2)
        fast = out is not None
        if fast:  # no autograd: each degree's block goes straight into an (L², N) block, transposed at the end
            res = torch.empty(L * L, n, dtype=x.dtype, device=x.device)
            torch.mul(prev1, trig[c : c + 1], out=res[0:1])
        else:
            blocks = [prev1 * trig[c : c + 1]]
        for l in range(1, L):
            inner = (prev1 * x) * A[l, c - l + 1 : c + l]  # |m| ≤ l−1, 2l−1 orders
            edge = diag[l : l + 1]  # |m| = l, both signs
            if l >= 2:  # b vanishes at |m| = l−1, so P̄_{l−2} (2l−3 orders) meets the middle only
                mid = inner[1:-1] - prev2 * AB[l, c - l + 2 : c + l - 1]
                row = torch.cat((edge, inner[:1], mid, inner[-1:], edge))
            else:
                row = torch.cat((edge, inner, edge))
            if fast:
                torch.mul(row, trig[c - l : c + l + 1], out=res[l * l : (l + 1) * (l + 1)])
            else:
                blocks.append(row * trig[c - l : c + l + 1])
            prev2, prev1 = prev1, row
        if out is not None:
            return out.copy_(res.T)  # transposed and cast to the output dtype in one copy
        return torch.cat(blocks).T.contiguous().to(dtype)
