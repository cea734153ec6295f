"""Wrap: the 4-d sine/cosine code of Mac Aodha et al. (ICCV 2019)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from geoenc.encoders.base import PositionEncoder
from geoenc.encoders.registry import register


def _angles(device: torch.device, dtype: torch.dtype, out_dtype: torch.dtype, rows: int) -> tuple[Tensor, Tensor]:
    """(λ°, φ°) @ scale + shift = (λ̂ − π/2, λ̂, 2φ̂ − π/2, 2φ̂): one cosine gives sin λ̂, cos λ̂, sin 2φ̂, cos 2φ̂.

    The shift is kept as a full ``(rows, 4)`` block: adding a contiguous block is several times cheaper than
    broadcasting four values, which matters at a training step's batch size.
    """
    k = math.pi / 180.0
    scale = torch.tensor([[k, k, 0.0, 0.0], [0.0, 0.0, 2 * k, 2 * k]], dtype=dtype, device=device)
    shift = torch.tensor([-math.pi / 2, 0.0, -math.pi / 2, 0.0], dtype=out_dtype, device=device)
    return scale, shift.expand(rows, 4).contiguous()


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

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        x = prep[0]
        n = x.shape[0]
        consts = self.__dict__.setdefault("_angle_cache", {})  # constants only: nothing to invalidate
        key = (x.device, x.dtype, dtype)
        hit = consts.get(key)
        if hit is None or hit[1].shape[0] < n:
            hit = consts[key] = _angles(x.device, x.dtype, dtype, max(n, 4096))
        scale, shift = hit
        # angles in the input's precision (float64 stays float64), shift and cosine in the output dtype (|·| ≤ 2π)
        if out is None:
            return torch.cos(torch.mm(x, scale).to(dtype) + shift[:n])
        if x.dtype == dtype:
            torch.mm(x, scale, out=out)
        else:
            out.copy_(torch.mm(x, scale))
        return torch.cos(out.add_(shift[:n]), out=out)


@register("wrap_ffn")
class WrapFFN(Wrap):
    """The same 4-d code as ``wrap``, followed by the generic FFN instead of FCNet."""

    summary = "wrap's 4-d code followed by the generic FFN (TorchSpatial's wrap+ffn)"
    default_net = "ffn"
