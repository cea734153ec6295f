"""A single linear layer (spherical harmonics + linear is a strong baseline in Rußwurm et al. 2024)."""

from __future__ import annotations

from torch import Tensor, nn

from geoenc.nets.registry import Net, check_positive, register


@register("linear")
class Linear(Net):
    """One ``nn.Linear(in_dim, out)`` layer."""

    summary = "a single linear layer"

    def __init__(self, in_dim: int, *, out: int = 256, bias: bool = True) -> None:
        super().__init__(in_dim)
        check_positive("out", out)
        self._remember(out=out, bias=bias)
        self.linear = nn.Linear(in_dim, out, bias=bias)
        self.out_dim = out

    def forward(self, x: Tensor) -> Tensor:
        y: Tensor = self.linear(x)
        return y
