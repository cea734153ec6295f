"""Image chips around points (:func:`extract_patches`); files of chips are written by
:func:`geoenc.workflows.patches.write_patches` and read back by :func:`read_patches`.

The output is GeoParquet (see :mod:`geoenc.io.write`) with the input's columns plus

* ``chip``: ``fixed_size_list<float32>[bands*size*size]``, one chip in C order ``(bands, size, size)``,
  NaN where the pixel lies beyond the raster or is nodata;
* ``valid_fraction``: float32, the share of the chip's pixels where every band holds a value;
* ``chip_row0`` / ``chip_col0``: int64, the raster pixel of the chip's top-left corner (can lie beyond
  the raster at its edges), so a chip's own transform is ``raster_transform * translation(col0, row0)``.

The ``geoenc`` metadata key holds ``chip_shape``, ``band_names``, ``bands``, ``raster``, ``raster_crs``,
``raster_transform`` (a, b, c, d, e, f) and the pixel convention. Imports neither torch nor typer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geoenc.errors import InputError
from geoenc.imagery.raster import ChipReader, outside_message, valid_fraction

CONVENTION = (
    "chip[b, i, j] is raster pixel (chip_row0 + i, chip_col0 + j) of band bands[b]; the point's own "
    "pixel is chip[:, size // 2, size // 2]; NaN = beyond the raster or nodata"
)


@dataclass
class Patches:
    """Chips for points: ``chips (N, bands, size, size)``, ``valid_fraction (N,)``, ``index`` of kept points."""

    chips: np.ndarray
    valid_fraction: np.ndarray
    index: np.ndarray
    row0: np.ndarray
    col0: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def extract_patches(
    raster: str | Path | ChipReader,
    lon: Any,
    lat: Any,
    size: int = 32,
    bands: str | Sequence[int] | None = None,
    *,
    skip_outside: bool = False,
) -> Patches:
    """Chips of ``size × size`` pixels centred on each lon/lat (WGS84 degrees) point.

    Points outside the raster raise :class:`InputError` (naming how many and the first) unless
    ``skip_outside``, which drops them (``Patches.index`` says which points were kept).
    """
    own = not isinstance(raster, ChipReader)
    reader = raster if isinstance(raster, ChipReader) else ChipReader(raster, size, bands)
    try:
        lon = np.asarray(lon, np.float64).reshape(-1)
        lat = np.asarray(lat, np.float64).reshape(-1)
        px = reader.pixels(lon, lat)
        if not px.inside.all() and not skip_outside:
            i = int(np.nonzero(~px.inside)[0][0])
            raise InputError(outside_message(int((~px.inside).sum()), lon.size, i, lon[i], lat[i], reader.path))
        keep = np.nonzero(px.inside)[0]
        chips = reader.chips(px.row[keep], px.col[keep])
        row0, col0 = reader.chip_origin(px.row[keep], px.col[keep])
        info = {**reader.raster_info(), "chip_shape": [len(reader.bands), reader.size, reader.size]}
        return Patches(chips, valid_fraction(chips), keep, row0, col0, info)
    finally:
        if own:
            reader.close()


def read_patches(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read back a patches file: chips ``(N, bands, size, size)`` float32 and its ``geoenc`` metadata."""
    import json

    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {}).get(b"geoenc", b"{}"))
    if "chip" not in table.column_names or "chip_shape" not in meta:
        raise InputError(f"{str(path)!r} is not a patches file (no chip column): write one with `geoenc patches`")
    flat = table.column("chip").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(table.num_rows, *meta["chip_shape"]), meta
