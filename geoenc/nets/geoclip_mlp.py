"""GeoCLIP's location net (Vivanco Cepeda, Nayak & Shah, NeurIPS 2023): one ReLU MLP per input block, summed."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geoenc.errors import ParameterError
from geoenc.nets.registry import Net, check_positive, register


@register("geoclip_mlp")
class GeoCLIPMLP(Net):
    """The input is cut into ``branches`` equal blocks; each goes through its own MLP; the outputs are summed.

    One branch: ``layers`` × [Linear → ReLU] of width ``hidden``, then a linear output layer of width ``out``.
    GeoCLIP runs one branch per random-Fourier-feature scale (``branches=3``, ``hidden=1024``, ``layers=3``,
    ``out=512``), so that each scale's features reach the embedding through weights of their own; with the
    ``geoclip`` encoder set ``branches`` to its number of ``sigmas``. The default ``branches=1`` is a plain MLP.
    """

    summary = "GeoCLIP's net: input split into equal blocks, one ReLU MLP per block, outputs summed"

    def __init__(self, in_dim: int, *, branches: int = 1, hidden: int = 1024, layers: int = 3, out: int = 512) -> None:
        super().__init__(in_dim)
        check_positive("branches", branches)
        check_positive("hidden", hidden)
        check_positive("layers", layers)
        check_positive("out", out)
        if in_dim % branches:
            raise ParameterError(
                f"net parameter branches={branches} must divide the input dimension {in_dim}: "
                "use one branch per encoder scale (geoclip: the number of sigmas)"
            )
        self._remember(branches=branches, hidden=hidden, layers=layers, out=out)
        self.block = in_dim // branches
        self.branches = nn.ModuleList(self._branch(self.block, hidden, layers, out) for _ in range(branches))
        self.out_dim = out

    @staticmethod
    def _branch(d_in: int, hidden: int, layers: int, out: int) -> nn.Sequential:
        mods: list[nn.Module] = []
        d = d_in
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        mods.append(nn.Linear(d, out))
        return nn.Sequential(*mods)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: (N, in_dim) → (N, out); branch k sees columns ``[k·block, (k+1)·block)``."""
        parts = torch.split(x, self.block, dim=-1)
        y: Tensor = self.branches[0](parts[0])
        for branch, part in zip(self.branches[1:], parts[1:], strict=True):
            y = y + branch(part)
        return y
