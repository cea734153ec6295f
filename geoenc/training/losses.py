"""Training losses: softmax CE, Mac Aodha et al.'s "full" presence-only loss, BCE, MSE, L1."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

AN_EPS = 1e-5


def random_sphere_lonlat(n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Tensor:
    """``n`` points uniform on the sphere: lon ~ U(−180, 180), lat = degrees(arcsin(U(−1, 1)))."""
    u = torch.rand(n, 2, generator=generator, dtype=torch.float32) * 2.0 - 1.0
    lon = u[:, 0] * 180.0
    lat = torch.rad2deg(torch.asin(u[:, 1]))
    return torch.stack((lon, lat), dim=1).to(device)


def an_full_loss(logits: Tensor, y: Tensor, logits_random: Tensor, pos_weight: float | None = None) -> Tensor:
    """Mac Aodha et al. (2019) "full" loss with sigmoid scores s and random-location negatives r.

    ``mean[λ·1(c=y)·(−log s_c(x)) + 1(c≠y)·(−log(1−s_c(x)))] + mean[−log(1−s_c(r))]``, λ = number of
    classes unless given, ε = 1e-5 inside the logs; means run over batch × classes.
    """
    c = logits.shape[1]
    lam = float(c if pos_weight is None else pos_weight)
    s = torch.sigmoid(logits)
    pos = F.one_hot(y.clamp_min(0), c).to(s.dtype)
    valid = (y >= 0).to(s.dtype)[:, None]
    loc = lam * pos * -torch.log(s + AN_EPS) + (1 - pos) * -torch.log(1 - s + AN_EPS)
    loc = (loc * valid).sum() / (valid.sum().clamp_min(1) * c)
    rand = -torch.log(1 - torch.sigmoid(logits_random) + AN_EPS).mean()
    return loc + rand


def supervised_loss(name: str, out: Tensor, y: Tensor) -> Tensor:
    """Every loss except an_full (which also needs random locations)."""
    if name == "ce":
        return F.cross_entropy(out.float(), y, ignore_index=-1)
    if name == "bce":
        target = y if y.ndim == 2 else F.one_hot(y.clamp_min(0), out.shape[1]).to(out.dtype)
        return F.binary_cross_entropy_with_logits(out.float(), target.float())
    if name == "mse":
        return F.mse_loss(out.float(), y)
    if name == "l1":
        return F.l1_loss(out.float(), y)
    raise ValueError(f"unknown loss {name!r}")


__all__ = ["AN_EPS", "an_full_loss", "random_sphere_lonlat", "supervised_loss"]
