"""SIREN (Sitzmann et al., NeurIPS 2020), as used after spherical harmonics by Rußwurm et al. (ICLR 2024)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from geoenc.nets.registry import Net, check_dropout, check_positive, register


class SineLayer(nn.Module):
    """``sin(w0 · (W x + b))`` with the SIREN initialisation.

    First layer: ``U(−1/n, 1/n)``; later layers: ``U(−√(6/n)/w0, √(6/n)/w0)``, n = fan-in.
    """

    def __init__(self, d_in: int, d_out: int, w0: float, *, first: bool, activation: bool = True) -> None:
        super().__init__()
        self.w0 = w0
        self.activation = activation
        self.linear = nn.Linear(d_in, d_out)
        bound = 1.0 / d_in if first else math.sqrt(6.0 / d_in) / w0
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound)
            self.linear.bias.uniform_(-bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        y = self.linear(x)
        return torch.sin(self.w0 * y) if self.activation else y


@register("siren")
class Siren(Net):
    """``layers`` sine layers of width ``hidden`` (w0 = ``w0_initial`` first, ``w0`` after), linear output."""

    summary = "SIREN: sine-activated MLP (w0=30 first layer, 1 after), linear output layer"

    def __init__(
        self,
        in_dim: int,
        *,
        hidden: int = 512,
        layers: int = 2,
        out: int = 256,
        w0_initial: float = 30.0,
        w0: float = 1.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(in_dim)
        check_positive("hidden", hidden)
        check_positive("layers", layers)
        check_positive("out", out)
        check_positive("w0_initial", w0_initial)
        check_positive("w0", w0)
        check_dropout(dropout)
        self._remember(hidden=hidden, layers=layers, out=out, w0_initial=w0_initial, w0=w0, dropout=dropout)
        mods: list[nn.Module] = []
        d = in_dim
        for i in range(layers):
            mods.append(SineLayer(d, hidden, w0_initial if i == 0 else w0, first=(i == 0)))
            if dropout > 0:
                mods.append(nn.Dropout(dropout))
            d = hidden
        mods.append(SineLayer(d, out, w0, first=False, activation=False))
        self.layers = nn.Sequential(*mods)
        self.out_dim = out

    def forward(self, x: Tensor) -> Tensor:
        y: Tensor = self.layers(x)
        return y
