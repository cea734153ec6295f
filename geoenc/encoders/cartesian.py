"""3-D Cartesian coordinates on the unit sphere, and the NeRF octaves built on them."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from geoenc.encoders.base import PositionEncoder, as_lonlat, check_int
from geoenc.encoders.registry import register


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

    def forward(self, lonlat: Tensor) -> Tensor:
        return _xyz(lonlat)


def _xyz(lonlat: Tensor) -> Tensor:
    ang = torch.deg2rad(as_lonlat(lonlat))
    s, c = torch.sin(ang), torch.cos(ang)
    cos_lat = c[:, 1]
    return torch.stack((cos_lat * c[:, 0], cos_lat * s[:, 0], s[:, 1]), dim=-1)


@register("nerf")
class NeRF(PositionEncoder):
    r"""NeRF positional encoding of the unit-sphere point ``p = xyz``: ``sin/cos(π 2^l p)``, l = 0…L−1.

    Mildenhall et al., "NeRF", ECCV 2020, applied to geographic points as in TorchSpatial.
    ``frequency_num`` is the number of octaves L (TorchSpatial always uses 16 whatever it is
    given; here the parameter is respected). Output: ``sin(π 2^l p_i)`` ordered (i, l), then the
    cosines: 6·L features. Periodic in longitude and continuous at the poles.
    """

    dim_formula = "6·L"
    summary = "NeRF sin/cos octaves of the unit-sphere xyz point (L = frequency_num octaves)"
    param_docs: ClassVar[dict[str, str]] = {"frequency_num": "number of octaves L (frequencies π·2^l, l = 0..L-1)"}

    def __init__(self, *, frequency_num: int = 16) -> None:
        super().__init__()
        check_int("frequency_num", frequency_num, 1, 30)
        self.frequency_num = frequency_num
        self._remember(frequency_num=frequency_num)

    @property
    def embedding_dim(self) -> int:
        return 6 * self.frequency_num

    def forward(self, lonlat: Tensor) -> Tensor:
        p = _xyz(lonlat)
        n = p.shape[0]
        # Octave l+1 from octave l by the double-angle formulas: two trig calls in all instead of 2·L.
        # (c − s)(c + s) keeps the float32 error at the level of evaluating sin(π 2^l p) directly.
        s, c = torch.sin(math.pi * p), torch.cos(math.pi * p)
        sins, coss = [s], [c]
        for _ in range(1, self.frequency_num):
            s, c = 2.0 * s * c, (c - s) * (c + s)
            sins.append(s)
            coss.append(c)
        return torch.cat((torch.stack(sins, dim=2).reshape(n, -1), torch.stack(coss, dim=2).reshape(n, -1)), dim=1)
