"""Points → cells of a global lon/lat grid, and per-cell aggregates (mean, rate, count).

The grid starts at (−180°, 90°) (north-west corner), cells are ``cell_deg`` square, row 0 is the
northernmost; its affine transform is ``from_origin(−180, 90, cell_deg, cell_deg)``, so
``rasterio``'s ``dataset.index(lon, lat)`` finds the cell a point fell into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from geoenc.errors import ParameterError

if TYPE_CHECKING:
    from affine import Affine


@dataclass
class LonLatGrid:
    cell_deg: float
    height: int
    width: int

    @classmethod
    def global_grid(cls, cell_deg: float) -> LonLatGrid:
        if not 0 < cell_deg <= 180:
            raise ParameterError(f"cell size must be in (0, 180] degrees, got {cell_deg}")
        return cls(float(cell_deg), int(np.ceil(180.0 / cell_deg - 1e-9)), int(np.ceil(360.0 / cell_deg - 1e-9)))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north); south/east may pass −90/180 when cell_deg does not divide them."""
        return (-180.0, 90.0 - self.height * self.cell_deg, -180.0 + self.width * self.cell_deg, 90.0)

    @property
    def transform(self) -> Affine:
        from affine import Affine

        return Affine(self.cell_deg, 0.0, -180.0, 0.0, -self.cell_deg, 90.0)  # = from_origin(-180, 90, d, d)

    def index(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of each point; points on the last edge (lat −90, lon 180) go to the last cell."""
        row = np.floor((90.0 - np.asarray(lat, dtype=np.float64)) / self.cell_deg).astype(np.int64)
        col = np.floor((np.asarray(lon, dtype=np.float64) + 180.0) / self.cell_deg).astype(np.int64)
        return np.clip(row, 0, self.height - 1), np.clip(col, 0, self.width - 1)

    def aggregate(
        self, lon: np.ndarray, lat: np.ndarray, columns: dict[str, np.ndarray], nodata: float = np.nan
    ) -> dict[str, np.ndarray]:
        """Per-cell mean of each column, plus ``count``; ``nodata`` where a cell holds no point.

        Returns 2-D float64 arrays (height, width) keyed by column name and ``"count"``.
        """
        row, col = self.index(lon, lat)
        flat = row * self.width + col
        size = self.height * self.width
        count = np.bincount(flat, minlength=size).astype(np.float64)
        empty = count == 0
        out = {}
        for name, values in columns.items():
            s = np.bincount(flat, weights=np.asarray(values, dtype=np.float64), minlength=size)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = s / count
            mean[empty] = nodata
            out[name] = mean.reshape(self.height, self.width)
        count[empty] = nodata
        out["count"] = count.reshape(self.height, self.width)
        return out
