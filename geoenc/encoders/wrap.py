"""Wrap: the 4-d sine/cosine code of Mac Aodha et al. (ICCV 2019)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from geoenc.encoders.base import PositionEncoder, as_lonlat, wants_grad
from geoenc.encoders.registry import register

_SCALE = (math.pi / 180.0, math.pi / 90.0)


@register("wrap")
class Wrap(PositionEncoder):
    r"""``[sin λ̂, cos λ̂, sin 2φ̂, cos 2φ̂]``, i.e. ``sin/cos(π x̃)`` with ``x̃ = (λ/180, φ/90)``.

    Mac Aodha, Cole & Perona, "Presence-Only Geographical Priors for Fine-Grained Image
    Classification", ICCV 2019. Parameter-free, 4 features, periodic in longitude.
    Note the formula maps both poles to the same code (sin 2φ̂ = 0, cos 2φ̂ = −1 at φ = ±90°).
    """

    dim_formula = "4"
    summary = "sin/cos of lon/180 and lat/90 scaled by π (Mac Aodha et al. 2019), with FCNet"
    default_net = "fcnet"

    def __init__(self) -> None:
        super().__init__()

    @property
    def embedding_dim(self) -> int:
        return 4

    def forward(self, lonlat: Tensor) -> Tensor:
        lonlat = as_lonlat(lonlat)
        ang = lonlat * lonlat.new_tensor(_SCALE)  # (π λ/180, π φ/90)
        if wants_grad(ang):
            return torch.stack((torch.sin(ang), torch.cos(ang)), dim=2).view(-1, 4)
        out = torch.empty(ang.shape[0], 2, 2, dtype=ang.dtype, device=ang.device)
        torch.sin(ang, out=out[:, :, 0])
        torch.cos(ang, out=out[:, :, 1])
        return out.view(-1, 4)


@register("wrap_ffn")
class WrapFFN(Wrap):
    """The same 4-d code as ``wrap``, followed by the generic FFN instead of FCNet."""

    summary = "wrap's 4-d code followed by the generic FFN (TorchSpatial's wrap+ffn)"
    default_net = "ffn"
