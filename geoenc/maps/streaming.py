"""A Cloud-Optimized GeoTIFF written in row blocks on a regular lon/lat grid: bounded memory, atomic rename.

Used for maps evaluated cell by cell (prediction maps, encoder dimensions), where a 0.05° global grid has
26 million cells per band and must never be held whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from geoenc.errors import UsageError
from geoenc.io.atomic import AtomicFile
from geoenc.io.geotiff import CogWriter

if TYPE_CHECKING:
    from affine import Affine

#: refuse grids larger than this many cells × bands unless the caller raises the limit
DEFAULT_MAX_CELLS = 2_000_000_000


@dataclass(frozen=True)
class Grid:
    """A regular lon/lat grid: ``width`` × ``height`` cells of ``cell_deg`` starting at (west, north)."""

    west: float
    south: float
    east: float
    north: float
    cell_deg: float

    @property
    def width(self) -> int:
        return max(1, math.ceil((self.east - self.west) / self.cell_deg - 1e-9))

    @property
    def height(self) -> int:
        return max(1, math.ceil((self.north - self.south) / self.cell_deg - 1e-9))

    @property
    def transform(self) -> Affine:
        from affine import Affine

        return Affine(self.cell_deg, 0.0, self.west, 0.0, -self.cell_deg, self.north)

    def row_centres(self, row0: int, nrows: int) -> np.ndarray:
        """``(nrows·width, 2)`` lon/lat of the cell centres of rows ``row0 … row0+nrows-1`` (row-major)."""
        lon = self.west + (np.arange(self.width) + 0.5) * self.cell_deg
        lat = self.north - (np.arange(row0, row0 + nrows) + 0.5) * self.cell_deg
        lat = np.clip(lat, -90.0, 90.0)
        lon = np.where(lon > 180.0, lon - 360.0, lon)
        lo, la = np.meshgrid(lon, lat)
        return np.column_stack((lo.ravel(), la.ravel()))


def parse_bbox(text: str | None) -> tuple[float, float, float, float]:
    """``"W,S,E,N"`` in degrees → a checked tuple (global when None)."""
    if text is None:
        return (-180.0, -90.0, 180.0, 90.0)
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--bbox takes W,S,E,N in degrees (four numbers), got {text!r}") from None
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise UsageError(f"--bbox {text!r} is out of range: longitudes in [-180, 180], latitudes in [-90, 90]")
    if w >= e:
        raise UsageError(f"--bbox {text!r}: west ({w}) must be less than east ({e})")
    if s >= n:
        raise UsageError(f"--bbox {text!r}: south ({s}) must be less than north ({n})")
    return w, s, e, n


def make_grid(bbox: str | None, cell_deg: float, bands: int, max_cells: int = DEFAULT_MAX_CELLS) -> Grid:
    if not (cell_deg > 0 and math.isfinite(cell_deg)):
        raise UsageError(f"--cell-deg must be a positive number of degrees, got {cell_deg}")
    w, s, e, n = parse_bbox(bbox)
    grid = Grid(w, s, e, n, float(cell_deg))
    cells = grid.width * grid.height
    if cells * max(bands, 1) > max_cells or grid.width > 2**31 - 1 or grid.height > 2**31 - 1:
        gb = cells * max(bands, 1) * 4 / 1e9
        raise UsageError(
            f"a {cell_deg}° grid over this extent is {grid.width:,} × {grid.height:,} cells × {bands} band(s) "
            f"(≈{gb:,.1f} GB as float32), over the limit of {max_cells:,} cells: raise --cell-deg or shrink --bbox"
        )
    return grid


class GridWriter:
    """Write a grid's bands block by block into a Cloud-Optimized GeoTIFF with overviews, atomically.

    The rows go into a temporary tiled GTiff; :meth:`close` copies it into COG layout (see
    :class:`geoenc.io.geotiff.CogWriter`), so memory stays bounded by one block whatever the grid's size.
    """

    def __init__(
        self,
        dest: str | Path | AtomicFile,
        grid: Grid,
        names: list[str],
        *,
        dtype: str = "float32",
        nodata: float | int = -9999.0,
        overwrite: bool = False,
        crs: str = "EPSG:4326",
        tags: Mapping[str, object] | None = None,
        colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
        units: Sequence[str | None] | None = None,
    ) -> None:
        self.grid = grid
        self.cog = CogWriter(
            dest,
            width=grid.width,
            height=grid.height,
            names=names,
            dtype=dtype,
            transform=grid.transform,
            crs=crs,
            nodata=nodata,
            overwrite=overwrite,
            units=units,
            tags=tags,
            colormap=colormap,
        )

    def write_rows(self, row0: int, block: np.ndarray) -> None:
        """``block``: ``(bands, nrows, width)`` values for rows ``row0 …``."""
        from rasterio.windows import Window

        self.cog.write(block, window=Window(0, row0, self.grid.width, block.shape[1]))

    def close(self, overviews: bool = True) -> None:
        self.cog.commit(overviews=overviews)

    def abort(self) -> None:
        self.cog.abort()

    def __enter__(self) -> GridWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cog.__exit__(exc_type, exc, tb)
