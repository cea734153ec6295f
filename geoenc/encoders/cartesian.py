"""3-D Cartesian coordinates on the unit sphere, and the NeRF octaves built on them."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from geoenc.encoders.base import PositionEncoder, check_int
from geoenc.encoders.phase import LinearPhase
from geoenc.encoders.registry import register


def unit_sphere(lonlat: Tensor, dtype: torch.dtype) -> Tensor:
    """``(N, 3)`` points on the unit sphere in ``dtype`` (a transposed view): radians from the input (float64 stays
    float64), trigonometry in ``dtype`` (|angle| ≤ π, where float32 is accurate to an ulp)."""
    ang = torch.deg2rad(lonlat.t().to(torch.float64 if lonlat.dtype == torch.float64 else dtype)).to(dtype)  # (2, N)
    s, c = torch.sin(ang), torch.cos(ang)
    return torch.stack((c[1] * c[0], c[1] * s[0], s[1])).t()


@register("xyz")
class XYZ(PositionEncoder):
    r"""Unit-sphere coordinates :math:`(\cos\hat\varphi\cos\hat\lambda,\ \cos\hat\varphi\sin\hat\lambda,
    \ \sin\hat\varphi)`.

    Parameter-free, 3 features, continuous everywhere including the poles and the antimeridian.
    Used as a baseline in TorchSpatial (Wu et al., NeurIPS 2024 Datasets & Benchmarks) and as the
    input of NeRF-style encodings.
    """

    dim_formula = "3"
    summary = "unit-sphere Cartesian coordinates"

    def __init__(self) -> None:
        super().__init__()

    @property
    def embedding_dim(self) -> int:
        return 3

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        xyz = unit_sphere(prep[0], dtype)
        return xyz.contiguous() if out is None else out.copy_(xyz)


@register("nerf")
class NeRF(PositionEncoder):
    r"""NeRF positional encoding of the unit-sphere point ``p = xyz``: ``sin/cos(π 2^l p)``, l = 0…L−1.

    Mildenhall et al., "NeRF", ECCV 2020, applied to geographic points as in TorchSpatial.
    ``frequency_num`` is the number of octaves L (TorchSpatial always uses 16 whatever it is
    given; here the parameter is respected). Output: ``sin(π 2^l p_i)`` ordered (i, l), then the
    cosines: 6·L features. Periodic in longitude and continuous at the poles.

    ``p`` is computed in float64 and the phases ``2^(l−1)·p_i`` turns exactly (see
    :mod:`geoenc.encoders.phase`), so float32 output keeps every octave up to L = 30.
    """

    dim_formula = "6·L"
    summary = "NeRF sin/cos octaves of the unit-sphere xyz point (L = frequency_num octaves)"
    param_docs: ClassVar[dict[str, str]] = {"frequency_num": "number of octaves L (frequencies π·2^l, l = 0..L-1)"}

    def __init__(self, *, frequency_num: int = 16) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, 30)
        self.frequency_num = frequency_num
        turns = 2.0 ** (torch.arange(frequency_num, dtype=torch.float64) - 1)  # π·2^l rad = 2^(l−1) turns
        # one phase group per point whose columns are the output's (sines then cosines, coordinate, octave):
        # coordinate i drives only its own columns; the sines are the cosines shifted by −¼ turn
        freqs = torch.zeros(3, 2, 3, frequency_num, dtype=torch.float64)
        for i in range(3):
            freqs[i, :, i] = turns
        shift = torch.zeros(1, 2, 3, frequency_num, dtype=torch.float64)
        shift[0, 0] = -0.25
        self.phase_table = LinearPhase(
            freqs.reshape(3, -1),
            lo=(-1.0, -1.0, -1.0),
            hi=(1.0, 1.0, 1.0),
            consts=shift.reshape(1, -1),
            bags=[((0, 1, 2), 0)],
        )
        self._remember(frequency_num=frequency_num)

    @property
    def embedding_dim(self) -> int:
        return 6 * self.frequency_num

    def _prepare(self, lonlat: Tensor, dtype: torch.dtype) -> tuple[Tensor, ...]:
        p = unit_sphere(lonlat.double(), torch.float64)
        if dtype == torch.float64:
            return (p,)
        return self.phase_table.split(p, dtype)

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        table = self.phase_table
        ang = table.phases64(prep[0]) if len(prep) == 1 else table.from_split(prep[0], prep[1], dtype)
        return torch.cos(ang) if out is None else torch.cos(ang, out=out)
