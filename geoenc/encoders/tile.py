"""Tile: a learnable embedding for every cell of a regular lon/lat grid."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn

from geoenc.encoders.base import MAX_SEED, PositionEncoder, as_lonlat, check_int, check_range
from geoenc.encoders.registry import register
from geoenc.errors import ParameterError


@register("tile")
class Tile(PositionEncoder):
    r"""One learnable ``dim``-vector per grid cell of ``cell_size`` × ``cell_size`` degrees.

    The grid covers the whole globe: columns start at λ = −180°, rows at φ = −90°.
    Cell of a point: ``i = floor(((λ + 180) mod 360) / Δ)``, ``j = min(floor((φ + 90) / Δ), rows − 1)``,
    so λ = +180° falls in the same column as −180° and φ = +90° in the top row.

    The table starts as a seeded N(0, 1) draw (``seed``), so an untrained encoder already
    gives a deterministic, cell-identifying random code; a location model trains the table.
    The output is piecewise constant in the input: gradients reach the table, not the coordinates.

    TorchSpatial never passes its cell size on, so every point lands in one cell there; here the
    cell size is a real parameter.
    """

    dim_formula = "dim"
    summary = "learnable embedding per lon/lat grid cell (global grid, cell_size degrees)"
    learnable = True
    param_docs: ClassVar[dict[str, str]] = {
        "cell_size": "cell edge in degrees, (0, 180]",
        "dim": "length of each cell's embedding",
        "seed": "seed of the initial N(0,1) table",
    }

    def __init__(self, *, cell_size: float = 1.0, dim: int = 64, seed: int = 0) -> None:
        super().__init__()
        check_range("cell_size", cell_size, 0.0, 180.0, lo_open=True)
        check_int("dim", dim, 1, 4096)
        check_int("seed", seed, 0, MAX_SEED)
        self.cell_size = float(cell_size)
        self.n_cols = math.ceil(360.0 / self.cell_size - 1e-9)
        self.n_rows = math.ceil(180.0 / self.cell_size - 1e-9)
        n_cells = self.n_cols * self.n_rows
        if n_cells * dim > 100_000_000:
            raise ParameterError(
                f"parameter cell_size={cell_size!r} with dim={dim} needs {n_cells * dim:,} table entries "
                "(over 100,000,000): use a larger cell_size or a smaller dim"
            )
        gen = torch.Generator().manual_seed(seed)
        self.table = nn.Parameter(torch.randn(n_cells, dim, generator=gen))
        self._dim = dim
        self._remember(cell_size=self.cell_size, dim=dim, seed=seed)

    @property
    def embedding_dim(self) -> int:
        return self._dim

    def cell_index(self, lonlat: Tensor) -> Tensor:
        """Flat cell index ``column * rows + row`` of every point (``(N,)`` int64)."""
        lonlat = as_lonlat(lonlat)
        c = lonlat.detach().t().double() + self._origin(lonlat.device)  # (2, N): λ + 180, φ + 90
        c[0].remainder_(360.0)
        c = c.div_(self.cell_size).floor_()
        c[0].clamp_(0, self.n_cols - 1)
        c[1].clamp_(0, self.n_rows - 1)
        return torch.addcmul(c[1], c[0], self._rows_t(lonlat.device)).long()

    def _origin(self, device: torch.device) -> Tensor:
        return self._cached(
            ("origin", device), lambda: torch.tensor([[180.0], [90.0]], dtype=torch.float64, device=device)
        )

    def _rows_t(self, device: torch.device) -> Tensor:
        return self._cached(
            ("rows", device), lambda: torch.tensor(float(self.n_rows), dtype=torch.float64, device=device)
        )

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        idx = self.cell_index(prep[0]).to(self.table.device)
        if out is not None and out.dtype == self.table.dtype and out.device == self.table.device:
            return torch.index_select(self.table, 0, idx, out=out)
        rows = nn.functional.embedding(idx, self.table).to(device=prep[0].device, dtype=dtype)
        return rows if out is None else out.copy_(rows)
