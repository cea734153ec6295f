"""Image chips around points, in memory (:func:`extract_patches`) or file to file (:func:`write_patches`).

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import geoenc
from geoenc.errors import InputError, UsageError
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
    info: dict = field(default_factory=dict)


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
    reader = ChipReader(raster, size, bands) if own else raster
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


@dataclass
class PatchesResult:
    rows: int
    skipped: int
    shape: tuple[int, int, int]
    info: dict = field(default_factory=dict)


def write_patches(
    raster: str | Path,
    points: Any,
    dest: str | Path,
    size: int = 32,
    bands: str | Sequence[int] | None = None,
    *,
    skip_outside: bool = False,
    overwrite: bool = False,
    fmt: str | None = None,
    coord_opts=None,
    batch_rows: int = 4096,
    progress: Callable[..., None] | None = None,
) -> PatchesResult:
    """Read points, cut a chip around each and write GeoParquet with a ``chip`` tensor column.

    Runs batch by batch (memory bounded by ``batch_rows`` chips); writes atomically, so an error (points
    outside without ``skip_outside``) leaves no output.
    """
    from geoenc.io import PointWriter, check_output, open_points
    from geoenc.io.write import resolve_output_format

    if resolve_output_format(dest, None) != "parquet":
        raise UsageError(f"patches are written as GeoParquet: give a .parquet output name, not {str(dest)!r}")
    check_output(dest, overwrite)
    with ChipReader(raster, size, bands) as reader:
        stream = open_points(points, fmt, coord_opts, batch_rows=batch_rows)
        info = {**reader.raster_info(), "chip_shape": [len(reader.bands), reader.size, reader.size]}
        meta = {
            "kind": "patches",
            "size": reader.size,
            **info,
            "chip_dtype": "float32",
            "nodata": "NaN",
            "convention": CONVENTION,
            "geoenc_version": geoenc.__version__,
        }
        total = rows = skipped = 0
        first_out: tuple[int, float, float] | None = None
        with PointWriter(dest, "parquet", overwrite=overwrite, metadata=meta) as writer:
            for batch in stream:
                n = len(batch)
                px = reader.pixels(batch.lon, batch.lat)
                outside = ~px.inside
                if outside.any():
                    if first_out is None:
                        i = int(np.nonzero(outside)[0][0])
                        first_out = (total + i, float(batch.lon[i]), float(batch.lat[i]))
                    skipped += int(outside.sum())
                total += n
                if first_out is not None and not skip_outside:
                    continue  # keep counting, to name how many points lie outside, then fail
                keep = np.nonzero(px.inside)[0]
                if keep.size == 0:
                    continue
                chips = reader.chips(px.row[keep], px.col[keep])
                row0, col0 = reader.chip_origin(px.row[keep], px.col[keep])
                attrs = batch.attrs.take(keep) if keep.size < n else batch.attrs
                writer.write(
                    batch.lon[keep],
                    batch.lat[keep],
                    attrs,
                    {
                        "chip": chips.reshape(keep.size, -1),
                        "valid_fraction": valid_fraction(chips),
                        "chip_row0": row0.astype(np.int64),
                        "chip_col0": col0.astype(np.int64),
                    },
                )
                rows += keep.size
                if progress is not None:
                    progress(total, stream.total_rows)
            if first_out is not None and not skip_outside:
                raise InputError(outside_message(skipped, total, *first_out, reader.path))
            if rows == 0:
                raise InputError(f"all {total:,} points lie outside raster {reader.path!r}: no chip to write")
    return PatchesResult(rows=rows, skipped=skipped, shape=tuple(info["chip_shape"]), info=info)


def read_patches(path: str | Path) -> tuple[np.ndarray, dict]:
    """Read back a patches file: chips ``(N, bands, size, size)`` float32 and its ``geoenc`` metadata."""
    import json

    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {}).get(b"geoenc", b"{}"))
    if "chip" not in table.column_names or "chip_shape" not in meta:
        raise InputError(f"{str(path)!r} is not a patches file (no chip column): write one with `geoenc patches`")
    flat = table.column("chip").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(table.num_rows, *meta["chip_shape"]), meta
