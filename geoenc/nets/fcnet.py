"""FCNet of Mac Aodha et al. (ICCV 2019): a residual MLP of constant width."""

from __future__ import annotations

from torch import Tensor, nn

from geoenc.nets.registry import Net, check_dropout, check_positive, register


class _ResBlock(nn.Module):
    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width),
            nn.ReLU(inplace=False),
            nn.Dropout(dropout),
            nn.Linear(width, width),
            nn.ReLU(inplace=False),
        )

    def forward(self, x: Tensor) -> Tensor:
        y: Tensor = x + self.body(x)
        return y


@register("fcnet")
class FCNet(Net):
    """Linear(in→hidden) + ReLU, then ``blocks`` residual blocks [Linear→ReLU→Dropout→Linear→ReLU, + skip]."""

    summary = "residual MLP of Mac Aodha et al. 2019 (Linear+ReLU, then residual blocks)"

    def __init__(self, in_dim: int, *, hidden: int = 256, blocks: int = 4, dropout: float = 0.5) -> None:
        super().__init__(in_dim)
        check_positive("hidden", hidden)
        check_positive("blocks", blocks, allow_zero=True)
        check_dropout(dropout)
        self._remember(hidden=hidden, blocks=blocks, dropout=dropout)
        self.stem = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.blocks = nn.Sequential(*[_ResBlock(hidden, dropout) for _ in range(blocks)])
        self.out_dim = hidden

    def forward(self, x: Tensor) -> Tensor:
        y: Tensor = self.blocks(self.stem(x))
        return y
