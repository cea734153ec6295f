"""``geoenc patches``: a chip of ``size × size`` pixels around each point, written as GeoParquet.

Columns and metadata: see :mod:`geoenc.imagery.patches`. Runs batch by batch (memory bounded by
``batch_rows`` chips) through the shared :func:`~geoenc.workflows.stream.stream_points` loop; written
atomically, so an error (points outside the raster without ``skip_outside``) leaves no output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geoenc.errors import InputError, UsageError
from geoenc.imagery.patches import CONVENTION
from geoenc.imagery.raster import ChipReader, outside_message, valid_fraction
from geoenc.io import CoordOptions, PointWriter, open_points
from geoenc.io.points import Points
from geoenc.io.write import resolve_output_format
from geoenc.provenance import provenance
from geoenc.workflows.stream import stream_points


@dataclass
class PatchesResult:
    rows: int
    skipped: int
    shape: tuple[int, int, int]
    info: dict[str, Any] = field(default_factory=dict)


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
    coord_opts: CoordOptions | None = None,
    batch_rows: int = 4096,
    progress: Callable[[int, int | None], None] | None = None,
) -> PatchesResult:
    """Read points, cut a chip around each and write GeoParquet with a ``chip`` tensor column.

    Points outside the raster fail the command (naming how many and the first), or with ``skip_outside``
    are dropped and counted.
    """
    if resolve_output_format(dest, None) != "parquet":
        raise UsageError(f"patches are written as GeoParquet: give a .parquet output name, not {str(dest)!r}")
    with (
        ChipReader(raster, size, bands) as reader,
        PointWriter(dest, "parquet", overwrite=overwrite, inputs=[raster, points]) as writer,
    ):
        info = {**reader.raster_info(), "chip_shape": [len(reader.bands), reader.size, reader.size]}
        writer.metadata.update(
            provenance(
                None,
                kind="patches",
                size=reader.size,
                **info,
                chip_dtype="float32",
                nodata="NaN",
                convention=CONVENTION,
            )
        )
        outside: dict[str, Any] = {"count": 0, "first": None}

        def compute(batch: Points) -> tuple[Points, dict[str, Any]] | None:
            px = reader.pixels(batch.lon, batch.lat)
            out = ~px.inside
            if out.any():
                if outside["first"] is None:
                    i = int(np.nonzero(out)[0][0])
                    outside["first"] = (batch.offset + i, float(batch.lon[i]), float(batch.lat[i]))
                outside["count"] += int(out.sum())
            if outside["first"] is not None and not skip_outside:
                return None  # keep counting, to name how many points lie outside, then fail
            keep = np.nonzero(px.inside)[0]
            chips = reader.chips(px.row[keep], px.col[keep])
            row0, col0 = reader.chip_origin(px.row[keep], px.col[keep])
            kept = (
                batch
                if keep.size == len(batch)
                else Points(batch.lon[keep], batch.lat[keep], batch.attrs.take(keep), batch.offset, batch.source_crs)
            )
            return kept, {
                "chip": chips.reshape(keep.size, -1),
                "valid_fraction": valid_fraction(chips),
                "chip_row0": row0.astype(np.int64),
                "chip_col0": col0.astype(np.int64),
            }

        total, rows = stream_points(
            open_points(points, fmt, coord_opts, batch_rows=batch_rows), writer, compute, progress
        )
        if outside["first"] is not None and not skip_outside:
            first_row, lon, lat = outside["first"]
            raise InputError(outside_message(outside["count"], total, first_row, lon, lat, reader.path))
        if rows == 0:
            raise InputError(f"all {total:,} points lie outside raster {reader.path!r}: no chip to write")
    return PatchesResult(rows=rows, skipped=outside["count"], shape=tuple(info["chip_shape"]), info=info)
