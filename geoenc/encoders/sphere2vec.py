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

from geoenc.encoders.base import PositionEncoder, check_int, check_range, geometric_frequencies
from geoenc.encoders.phase import LinearPhase
from geoenc.encoders.registry import register

#: smallest allowed min_radius (radians, ≈ 6 mm on the Earth): finer scales put the phase beyond 10⁹ turns,
#: where even the float64 formula has no fractional digit left to be faithful to
MIN_RADIUS = 1e-9

#: phase groups: (coordinate, shift) with coordinate 0 = longitude, 1 = latitude; the shift −¼ turn turns the cosine
#: into a sine (cos(θ − π/2) = sin θ), applied exactly inside the phase
LAT, LAT_S, LON, LON_S = (1, 0), (1, 1), (0, 0), (0, 1)  # cos φ_s, sin φ_s, cos λ_s, sin λ_s
#: the single-scale factors, columns of the (N, 3) block: cos φ̂, cos λ̂, sin λ̂
COS_LAT1, COS_LON1, SIN_LON1 = 0, 1, 2


def _single_angles(device: torch.device) -> tuple[Tensor, Tensor]:
    """(φ°, λ°, λ°) × to_rad + shift = (φ̂, λ̂, λ̂ − π/2), as (3, 1) columns."""
    to_rad = torch.full((3, 1), math.pi / 180.0, dtype=torch.float64, device=device)
    return torch.tensor([[0.0], [0.0], [-math.pi / 2]], dtype=torch.float64, device=device), to_rad


class _Sphere2Vec(PositionEncoder):
    """Shared parameters, the exact per-scale phases and the assembly of the output blocks.

    ``groups`` lists the per-scale cosine blocks computed, in order, each ``(coordinate, shift)``; one embedding
    bag gives their exact phases and one cosine call their values, written straight into the output when the
    groups are the output's blocks. ``factors`` then multiplies output block ``t`` in place by the single-scale
    value in column ``f`` (``(t, f)`` pairs) or by another output block (``(t, ("o", u))``).
    """

    n_terms = 1
    max_frequency_num = 1024
    groups: ClassVar[tuple[tuple[int, int], ...]] = ()
    factors: ClassVar[tuple[tuple[int, int | tuple[str, int]], ...]] = ()
    uses_single: ClassVar[bool] = False
    param_docs: ClassVar[dict[str, str]] = {
        "frequency_num": "number of scales S",
        "min_radius": "smallest scale r_min in radians (largest frequency 1/r_min), at least 1e-9",
        "max_radius": "largest scale r_max in radians",
    }

    def __init__(self, *, frequency_num: int = 32, min_radius: float = 0.001, max_radius: float = 1.0) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, self.max_frequency_num)
        check_range("max_radius", max_radius, 0.0, None, lo_open=True)
        check_range("min_radius", min_radius, MIN_RADIUS, max_radius, hi_open=True)
        self.frequency_num = frequency_num
        # φ_s = f_s·φ̂ = (f_s/360)·φ° turns: frequencies in turns per degree, for longitude and latitude
        turns = geometric_frequencies(frequency_num, min_radius, max_radius) / 360.0
        self.phase_table = LinearPhase(
            torch.stack((turns, turns)),
            lo=(-180.0, -90.0),
            hi=(180.0, 90.0),
            consts=torch.tensor([[0.0], [-0.25]], dtype=torch.float64).expand(2, frequency_num),
            bags=[((coord,), shift) for coord, shift in self.groups],
        )
        self._remember(frequency_num=frequency_num, min_radius=float(min_radius), max_radius=float(max_radius))

    @property
    def embedding_dim(self) -> int:
        return self.n_terms * self.frequency_num

    def _prepare(self, lonlat: Tensor, dtype: torch.dtype) -> tuple[Tensor, ...]:
        if self.uses_single:
            # cos φ̂, cos λ̂, sin λ̂ = cos(λ̂ − π/2): angles in float64, one cosine in the output dtype (|angle| ≤ 2π)
            shift, to_rad = self._cached(("single", lonlat.device), lambda: _single_angles(lonlat.device))
            c = lonlat.t().to(torch.float64, memory_format=torch.contiguous_format)  # (2, N): long vectorised loops
            single = torch.cos(torch.addcmul(shift, c[[1, 0, 0]], to_rad).to(dtype)).t()  # (N, 3) view
        else:
            single = lonlat.new_empty(lonlat.shape[0], 0, dtype=dtype)
        if dtype == torch.float64:
            return lonlat.double(), single
        k, r = self.phase_table.split(lonlat, dtype)
        return k, r, single

    def _phases(self, prep: tuple[Tensor, ...], dtype: torch.dtype, groups: slice = slice(None)) -> Tensor:
        if len(prep) == 2:  # float64: the direct formula
            return self.phase_table.phases64(prep[0], groups)
        return self.phase_table.from_split(prep[0], prep[1], dtype, groups)

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        single, s = prep[-1], self.frequency_num
        ang = self._phases(prep, dtype)
        if out is None:  # differentiable: the same values, out of place
            blocks = list(torch.split(torch.cos(ang), s, dim=1))
            for t, f in self.factors:
                blocks[t] = blocks[t] * (blocks[f[1]] if isinstance(f, tuple) else single[:, f : f + 1])
            return torch.cat(blocks, dim=1)
        torch.cos(ang, out=out)
        for t, f in self.factors:
            other = out[:, f[1] * s : (f[1] + 1) * s] if isinstance(f, tuple) else single[:, f : f + 1]
            out[:, t * s : (t + 1) * s].mul_(other)
        return out


@register("sphereC")
class SphereC(_Sphere2Vec):
    r"""``[sin φ_s, cos φ_s cos λ_s, cos φ_s sin λ_s]``: 3·S features (Sphere2Vec-sphereC)."""

    dim_formula = "3·S"
    summary = "Sphere2Vec-sphereC: multi-scale xyz-like terms (Mai et al. 2023)"
    n_terms = 3

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        # [sin φ_s, cos φ_s, cos φ_s] straight into the output, then blocks 2-3 × [cos λ_s, sin λ_s]
        s = self.frequency_num
        lat = self._phases(prep, dtype, slice(0, 3))
        lon = torch.cos(self._phases(prep, dtype, slice(3, 5)))
        if out is None:
            lat = torch.cos(lat)
            return torch.cat((lat[:, :s], lat[:, s:] * lon), dim=1)
        torch.cos(lat, out=out)
        out[:, s:].mul_(lon)
        return out

    groups = (LAT_S, LAT, LAT, LON, LON_S)


@register("sphereC+")
class SphereCPlus(_Sphere2Vec):
    r"""``[sin φ_s, cos φ_s, sin λ_s, cos λ_s, cos φ_s cos λ_s, cos φ_s sin λ_s]``: 6·S features."""

    dim_formula = "6·S"
    summary = "Sphere2Vec-sphereC+: sphereC plus the per-scale sin/cos of lat and lon"
    n_terms = 6
    groups = (LAT_S, LAT, LON_S, LON, LAT, LAT)
    factors = ((4, ("o", 3)), (5, ("o", 2)))


_SPHERE_M_GROUPS = (LAT_S, LAT, LON, LAT, LON_S)
_SPHERE_M_FACTORS = ((1, COS_LON1), (2, COS_LAT1), (3, SIN_LON1), (4, COS_LAT1))


@register("sphereM")
class SphereM(_Sphere2Vec):
    r"""``[sin φ_s, cos φ_s cos λ̂, cos φ̂ cos λ_s, cos φ_s sin λ̂, cos φ̂ sin λ_s]``: 5·S features.

    Multi-scale latitude terms mixed with single-scale longitude terms and vice versa.
    """

    dim_formula = "5·S"
    summary = "Sphere2Vec-sphereM: multi-scale terms mixed with single-scale ones (Mai et al. 2023)"
    n_terms = 5
    groups = _SPHERE_M_GROUPS
    factors = _SPHERE_M_FACTORS
    uses_single = True


@register("sphereM+")
class SphereMPlus(_Sphere2Vec):
    r"""sphereM's five terms, then ``[cos φ_s, sin λ_s, cos λ_s]``: 8·S features.

    TorchSpatial builds these scales as ``r_max^(−s/(S−1))`` without ``min_radius``, so with its
    ``r_max = 1`` all S scales are identical; the geometric scales here fix that.
    """

    dim_formula = "8·S"
    summary = "Sphere2Vec-sphereM+: sphereM plus per-scale cos lat, sin/cos lon"
    n_terms = 8
    groups = (*_SPHERE_M_GROUPS, LAT, LON_S, LON)
    factors = _SPHERE_M_FACTORS
    uses_single = True


@register("dfs")
class DFS(_Sphere2Vec):
    r"""Double Fourier sphere: every product of ``{cos, sin} φ_n`` with ``{cos, sin} λ_m`` over all
    scale pairs (n, m), then the per-scale ``[cos φ_s, sin φ_s, cos λ_s, sin λ_s]``: 4·S² + 4·S features.

    Product block order: (cos φ, sin φ) × n × (cos λ, sin λ) × m, flattened row-major.
    """

    dim_formula = "4·S² + 4·S"
    summary = "double Fourier sphere: all lat×lon scale cross products plus per-scale terms"
    max_frequency_num = 128
    groups = (LAT, LAT_S, LON, LON_S)  # the per-scale tail, in its output order

    @property
    def embedding_dim(self) -> int:
        s = self.frequency_num
        return 4 * s * s + 4 * s

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        n, s = prep[0].shape[0], self.frequency_num
        c = torch.cos(self._phases(prep, dtype)).view(n, 4, s)  # cos φ_s, sin φ_s, cos λ_s, sin λ_s
        a = c[:, 0:2, :, None, None]  # (N, 2, S, 1, 1): cos φ_n, sin φ_n
        b = c[:, None, None, 2:4, :]  # (N, 1, 1, 2, S): cos λ_m, sin λ_m
        if out is None:
            return torch.cat(((a * b).reshape(n, -1), c.reshape(n, -1)), dim=1)
        torch.mul(a, b, out=out[:, : 4 * s * s].view(n, 2, s, 2, s))
        out[:, 4 * s * s :].copy_(c.reshape(n, -1))
        return out
