"""Space2Vec (Mai et al., ICLR 2020): multi-scale sinusoids of planar lon/lat in degrees."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from geoenc.encoders.base import PositionEncoder, check_int, check_range, geometric_frequencies
from geoenc.encoders.phase import LinearPhase
from geoenc.encoders.registry import register

#: smallest allowed min_radius (degrees, ≈ 1 cm): finer scales put the phase beyond 10⁹ turns, where even the
#: float64 formula has no fractional digit left to be faithful to
MIN_RADIUS = 1e-7

_RADIUS_DOCS = {
    "frequency_num": "number of scales S",
    "min_radius": "smallest wavelength scale r_min in degrees, at least 1e-7",
    "max_radius": "largest wavelength scale r_max in degrees",
}


class _Space2Vec(PositionEncoder):
    """Shared parameters: S geometric scales between ``min_radius`` and ``max_radius`` (degrees).

    Subclasses give the K planar coordinates ``a_k`` (degrees, float64) and their ranges; the output is
    ``[sin(f_s a_k) for k, s]`` then the cosines, all from one embedding bag of exact phases and one cosine
    call (sin θ = cos(θ − π/2), the shift applied exactly inside the phase) written straight into the output.
    """

    n_dirs = 1
    ranges: tuple[tuple[float, float], ...] = ()
    param_docs = _RADIUS_DOCS

    def __init__(self, *, frequency_num: int = 32, min_radius: float = 0.01, max_radius: float = 360.0) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, 1024)
        check_range("max_radius", max_radius, 0.0, None, lo_open=True)
        check_range("min_radius", min_radius, MIN_RADIUS, max_radius, hi_open=True)
        self.frequency_num = frequency_num
        # sin(f·a) = sin(2π·(f/2π)·a): frequencies in turns per degree
        turns = geometric_frequencies(frequency_num, min_radius, max_radius) / (2 * math.pi)
        k = self.n_dirs
        self.phase_table = LinearPhase(
            turns.expand(k, -1),
            lo=[lo for lo, _ in self.ranges],
            hi=[hi for _, hi in self.ranges],
            consts=torch.tensor([[-0.25], [0.0]], dtype=torch.float64).expand(2, frequency_num),
            bags=[((j,), 0) for j in range(k)] + [((j,), 1) for j in range(k)],  # the sines, then the cosines
        )
        self._remember(frequency_num=frequency_num, min_radius=float(min_radius), max_radius=float(max_radius))

    @property
    def embedding_dim(self) -> int:
        return 2 * self.n_dirs * self.frequency_num

    def _coords(self, lonlat: Tensor) -> Tensor:
        """``(N, K)`` planar coordinates in degrees, float64."""
        raise NotImplementedError

    def _prepare(self, lonlat: Tensor, dtype: torch.dtype) -> tuple[Tensor, ...]:
        coords = self._coords(lonlat)
        if dtype == torch.float64:
            return (coords,)
        return self.phase_table.split(coords, dtype)

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        table = self.phase_table
        ang = table.phases64(prep[0]) if len(prep) == 1 else table.from_split(prep[0], prep[1], dtype)
        return torch.cos(ang) if out is None else torch.cos(ang, out=out)


@register("grid")
class Grid(_Space2Vec):
    r"""Space2Vec-grid: ``[sin(f_s λ), sin(f_s φ)]`` then the cosines, λ, φ in degrees.

    ``f_s = 1/r_s``, ``r_s`` geometric from ``min_radius`` to ``max_radius`` (degrees).
    Output order: sin(f·λ) (S), sin(f·φ) (S), cos(f·λ) (S), cos(f·φ) (S).
    """

    dim_formula = "4·S"
    summary = "Space2Vec-grid: multi-scale sin/cos of lon and lat in degrees (Mai et al. 2020)"
    n_dirs = 2
    ranges = ((-180.0, 180.0), (-90.0, 90.0))

    def _coords(self, lonlat: Tensor) -> Tensor:
        return lonlat.double()


_SQ3 = math.sqrt(3.0) / 2.0
#: |⟨(λ, φ), u_k⟩| ≤ 90 + 90·√3/2 ≈ 167.9° over the globe for u_2, u_3
_PROJ = 90.0 + 90.0 * _SQ3 + 1e-9


@register("theory")
class Theory(_Space2Vec):
    r"""Space2Vec-theory: sinusoids of the projections on three unit vectors 120° apart.

    ``a_k = ⟨(λ, φ), u_k⟩`` with ``u_1 = (1, 0)``, ``u_2 = (−½, √3/2)``, ``u_3 = (−½, −√3/2)``
    (degrees); output ``sin(f_s a_k)`` for k = 1..3, s = 0..S−1, then the cosines.
    """

    dim_formula = "6·S"
    summary = "Space2Vec-theory: multi-scale sin/cos on 3 directions 120° apart (Mai et al. 2020)"
    n_dirs = 3
    ranges = ((-180.0, 180.0), (-_PROJ, _PROJ), (-_PROJ, _PROJ))

    def _coords(self, lonlat: Tensor) -> Tensor:
        c = lonlat.t().double()  # (2, N)
        lon, lat = c[0], c[1]
        return torch.stack((lon, -0.5 * lon + _SQ3 * lat, -0.5 * lon - _SQ3 * lat)).t()
