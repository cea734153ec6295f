"""Space2Vec (Mai et al., ICLR 2020): multi-scale sinusoids of planar lon/lat in degrees."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from geoenc.encoders.base import (
    PositionEncoder,
    cast_like,
    check_int,
    check_radii,
    geometric_frequencies,
    split_lonlat,
    turns_to_radians,
    wants_grad,
)
from geoenc.encoders.registry import register

_RADIUS_DOCS = {
    "frequency_num": "number of scales S",
    "min_radius": "smallest wavelength scale r_min in degrees",
    "max_radius": "largest wavelength scale r_max in degrees",
}


class _Space2Vec(PositionEncoder):
    """Shared parameters: S geometric scales between ``min_radius`` and ``max_radius`` (degrees)."""

    n_dirs = 1
    param_docs = _RADIUS_DOCS

    def __init__(self, *, frequency_num: int = 32, min_radius: float = 0.01, max_radius: float = 360.0) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, 1024)
        check_radii(min_radius, max_radius)
        self.frequency_num = frequency_num
        # frequencies in turns per degree: sin(f x) = sin(2π · (f/2π) x)
        self.register_buffer(
            "turns", geometric_frequencies(frequency_num, min_radius, max_radius) / (2 * math.pi), persistent=False
        )
        self._remember(frequency_num=frequency_num, min_radius=float(min_radius), max_radius=float(max_radius))

    @property
    def embedding_dim(self) -> int:
        return 2 * self.n_dirs * self.frequency_num

    def _sincos(self, coords: list[Tensor], like: Tensor) -> Tensor:
        """``[sin(f_s a_k) for k, s] ++ [cos(f_s a_k) for k, s]``: (N, 2·K·S)."""
        f = cast_like(self.turns, like)
        ang = turns_to_radians(torch.cat([c[:, None] * f for c in coords], dim=1))  # (N, K·S)
        if wants_grad(ang):
            return torch.cat((torch.sin(ang), torch.cos(ang)), dim=1)
        out = torch.empty(ang.shape[0], 2, ang.shape[1], dtype=ang.dtype, device=ang.device)
        torch.sin(ang, out=out[:, 0])
        torch.cos(ang, out=out[:, 1])
        return out.view(ang.shape[0], -1)


@register("grid")
class Grid(_Space2Vec):
    r"""Space2Vec-grid: ``[sin(f_s λ), sin(f_s φ)]`` then the cosines, λ, φ in degrees.

    ``f_s = 1/r_s``, ``r_s`` geometric from ``min_radius`` to ``max_radius`` (degrees).
    Output order: sin(f·λ) (S), sin(f·φ) (S), cos(f·λ) (S), cos(f·φ) (S).
    """

    dim_formula = "4·S"
    summary = "Space2Vec-grid: multi-scale sin/cos of lon and lat in degrees (Mai et al. 2020)"
    n_dirs = 2

    def forward(self, lonlat: Tensor) -> Tensor:
        lon, lat = split_lonlat(lonlat)
        return self._sincos([lon, lat], lon)


_SQ3 = math.sqrt(3.0) / 2.0


@register("theory")
class Theory(_Space2Vec):
    r"""Space2Vec-theory: sinusoids of the projections on three unit vectors 120° apart.

    ``a_k = ⟨(λ, φ), u_k⟩`` with ``u_1 = (1, 0)``, ``u_2 = (−½, √3/2)``, ``u_3 = (−½, −√3/2)``
    (degrees); output ``sin(f_s a_k)`` for k = 1..3, s = 0..S−1, then the cosines.
    """

    dim_formula = "6·S"
    summary = "Space2Vec-theory: multi-scale sin/cos on 3 directions 120° apart (Mai et al. 2020)"
    n_dirs = 3

    def forward(self, lonlat: Tensor) -> Tensor:
        lon, lat = split_lonlat(lonlat)
        a2 = -0.5 * lon + _SQ3 * lat
        a3 = -0.5 * lon - _SQ3 * lat
        return self._sincos([lon, a2, a3], lon)
