"""Sphere2Vec (Mai et al., ISPRS J. 2023) and the double Fourier sphere: multi-scale spherical sinusoids.

All five share ``φ_s = f_s φ̂`` and ``λ_s = f_s λ̂`` (radians), ``f_s = 1/r_s`` with ``r_s`` geometric
between ``min_radius`` and ``max_radius`` (radians). Outputs are term-major: each term is a block
of S columns (s = 0…S−1), blocks in the order of the formula in each class docstring.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from geoenc.encoders.base import (
    PositionEncoder,
    cast_like,
    check_int,
    check_radii,
    geometric_frequencies,
    split_lonlat,
    wants_grad,
)
from geoenc.encoders.registry import register


def _assemble(parts: list[tuple[Tensor, Tensor | None]], like: Tensor) -> Tensor:
    """Concatenate blocks ``a`` or ``a * b`` (each (N, S)) along the features.

    Without autograd the products are written straight into the output (no intermediate tensors and
    no final copy); with autograd it is a plain ``torch.cat``.
    """
    tensors = [t for ab in parts for t in ab if t is not None]
    if wants_grad(*tensors):
        return torch.cat([a if b is None else a * b for a, b in parts], dim=1)
    n, s = parts[0][0].shape[0], parts[0][0].shape[1]
    out = torch.empty(n, len(parts) * s, dtype=like.dtype, device=like.device)
    for k, (a, b) in enumerate(parts):
        dst = out[:, k * s : (k + 1) * s]
        if b is None:
            dst.copy_(a)
        else:
            torch.mul(a, b, out=dst)
    return out


class _Sphere2Vec(PositionEncoder):
    """Shared parameters and the per-scale sin/cos of latitude and longitude."""

    n_terms = 1
    max_frequency_num = 1024
    param_docs: ClassVar[dict[str, str]] = {
        "frequency_num": "number of scales S",
        "min_radius": "smallest scale r_min in radians (largest frequency 1/r_min)",
        "max_radius": "largest scale r_max in radians",
    }

    def __init__(self, *, frequency_num: int = 32, min_radius: float = 0.001, max_radius: float = 1.0) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, self.max_frequency_num)
        check_radii(min_radius, max_radius)
        self.frequency_num = frequency_num
        # f_s·φ̂ = (f_s·π/180)·φ°: frequencies in radians per degree
        self.register_buffer(
            "freqs_deg",
            geometric_frequencies(frequency_num, min_radius, max_radius) * (math.pi / 180),
            persistent=False,
        )
        self._remember(frequency_num=frequency_num, min_radius=float(min_radius), max_radius=float(max_radius))

    @property
    def embedding_dim(self) -> int:
        return self.n_terms * self.frequency_num

    def _scaled(self, lonlat: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        """``lon, lat`` (radians, (N,)) and ``sin φ_s, cos φ_s, sin λ_s, cos λ_s`` ((N, S) each)."""
        lon_deg, lat_deg = split_lonlat(lonlat)
        f = cast_like(self.freqs_deg, lon_deg)
        s = self.frequency_num
        # one sin and one cos call over both coordinates (arguments up to π/r_min: a few thousand
        # radians at the defaults, where the CPU sine is still on its fast path)
        ang = torch.cat((lat_deg[:, None] * f, lon_deg[:, None] * f), dim=1)  # (N, 2S)
        sn, cs = torch.sin(ang), torch.cos(ang)
        return torch.deg2rad(lon_deg), torch.deg2rad(lat_deg), sn[:, :s], cs[:, :s], sn[:, s:], cs[:, s:]


@register("sphereC")
class SphereC(_Sphere2Vec):
    r"""``[sin φ_s, cos φ_s cos λ_s, cos φ_s sin λ_s]``: 3·S features (Sphere2Vec-sphereC)."""

    dim_formula = "3·S"
    summary = "Sphere2Vec-sphereC: multi-scale xyz-like terms (Mai et al. 2023)"
    n_terms = 3

    def forward(self, lonlat: Tensor) -> Tensor:
        _, _, sp, cp, sl, cl = self._scaled(lonlat)
        return _assemble([(sp, None), (cp, cl), (cp, sl)], sp)


@register("sphereC+")
class SphereCPlus(_Sphere2Vec):
    r"""``[sin φ_s, cos φ_s, sin λ_s, cos λ_s, cos φ_s cos λ_s, cos φ_s sin λ_s]``: 6·S features."""

    dim_formula = "6·S"
    summary = "Sphere2Vec-sphereC+: sphereC plus the per-scale sin/cos of lat and lon"
    n_terms = 6

    def forward(self, lonlat: Tensor) -> Tensor:
        _, _, sp, cp, sl, cl = self._scaled(lonlat)
        return _assemble([(sp, None), (cp, None), (sl, None), (cl, None), (cp, cl), (cp, sl)], sp)


def _sphere_m_parts(lonlat: Tensor, enc: _Sphere2Vec) -> list[tuple[Tensor, Tensor | None]]:
    """sphereM's five blocks, then the three extra blocks of sphereM+."""
    lon, lat, sp, cp, sl, cl = enc._scaled(lonlat)
    single = torch.stack((torch.cos(lat), torch.cos(lon), torch.sin(lon)), dim=1)
    cos_lat, cos_lon, sin_lon = single[:, 0:1], single[:, 1:2], single[:, 2:3]
    return [(sp, None), (cp, cos_lon), (cl, cos_lat), (cp, sin_lon), (sl, cos_lat), (cp, None), (sl, None), (cl, None)]


@register("sphereM")
class SphereM(_Sphere2Vec):
    r"""``[sin φ_s, cos φ_s cos λ̂, cos φ̂ cos λ_s, cos φ_s sin λ̂, cos φ̂ sin λ_s]``: 5·S features.

    Multi-scale latitude terms mixed with single-scale longitude terms and vice versa.
    """

    dim_formula = "5·S"
    summary = "Sphere2Vec-sphereM: multi-scale terms mixed with single-scale ones (Mai et al. 2023)"
    n_terms = 5

    def forward(self, lonlat: Tensor) -> Tensor:
        parts = _sphere_m_parts(lonlat, self)[:5]
        return _assemble(parts, parts[0][0])


@register("sphereM+")
class SphereMPlus(_Sphere2Vec):
    r"""sphereM's five terms, then ``[cos φ_s, sin λ_s, cos λ_s]``: 8·S features.

    TorchSpatial builds these scales as ``r_max^(−s/(S−1))`` without ``min_radius``, so with its
    ``r_max = 1`` all S scales are identical; the geometric scales here fix that.
    """

    dim_formula = "8·S"
    summary = "Sphere2Vec-sphereM+: sphereM plus per-scale cos lat, sin/cos lon"
    n_terms = 8

    def forward(self, lonlat: Tensor) -> Tensor:
        parts = _sphere_m_parts(lonlat, self)
        return _assemble(parts, parts[0][0])


@register("dfs")
class DFS(_Sphere2Vec):
    r"""Double Fourier sphere: every product of ``{cos, sin} φ_n`` with ``{cos, sin} λ_m`` over all
    scale pairs (n, m), then the per-scale ``[cos φ_s, sin φ_s, cos λ_s, sin λ_s]``: 4·S² + 4·S features.

    Product block order: (cos φ, sin φ) × n × (cos λ, sin λ) × m, flattened row-major.
    """

    dim_formula = "4·S² + 4·S"
    summary = "double Fourier sphere: all lat×lon scale cross products plus per-scale terms"
    max_frequency_num = 128

    @property
    def embedding_dim(self) -> int:
        s = self.frequency_num
        return 4 * s * s + 4 * s

    def forward(self, lonlat: Tensor) -> Tensor:
        _, _, sp, cp, sl, cl = self._scaled(lonlat)
        n, s = sp.shape
        a = torch.stack((cp, sp), dim=1)[:, :, :, None, None]  # (N, 2, S, 1, 1)
        b = torch.stack((cl, sl), dim=1)[:, None, None, :, :]  # (N, 1, 1, 2, S)
        if wants_grad(a, b):
            return torch.cat(((a * b).reshape(n, -1), cp, sp, cl, sl), dim=1)
        # no autograd: write both parts straight into the (large) output, no intermediate copy
        out = torch.empty(n, self.embedding_dim, dtype=sp.dtype, device=sp.device)
        torch.mul(a, b, out=out[:, : 4 * s * s].view(n, 2, s, 2, s))
        torch.stack((cp, sp, cl, sl), dim=1, out=out[:, 4 * s * s :].view(n, 4, s))
        return out
