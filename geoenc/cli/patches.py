"""``geoenc patches``: image chips of size × size pixels around points, from any raster."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar

Raster = Annotated[
    str, typer.Argument(metavar="RASTER", help="Any raster GDAL reads (GeoTIFF, COG, VRT …) with a CRS.")
]
Points = Annotated[str, typer.Argument(metavar="POINTS", help="Points: GeoParquet, GeoJSON, CSV file, or - for stdin.")]
Size = Annotated[int, typer.Option("--size", help="Chip width and height in pixels.")]
Bands = Annotated[str | None, typer.Option("--bands", help="1-based bands to keep, e.g. 1,2,3 (default: all).")]
SkipOutside = Annotated[bool, typer.Option("--skip-outside", help="Drop points outside the raster instead of failing.")]


def patches(
    raster: Raster,
    points: Points,
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", rich_help_panel="Output", help="Output GeoParquet with a `chip` column, or - for stdout."
        ),
    ],
    size: Size = 32,
    bands: Bands = None,
    skip_outside: SkipOutside = False,
    batch_size: o.BatchSize = 4096,
    overwrite: o.Overwrite = False,
    format: o.InputFormat = None,
    lon_col: o.LonCol = None,
    lat_col: o.LatCol = None,
    geometry_col: o.GeometryCol = None,
    crs: o.Crs = None,
    centroid: o.Centroid = False,
    wrap_lon: o.WrapLon = False,
    quiet: o.Quiet = False,
) -> None:
    """Cut a chip of SIZE×SIZE pixels centred on each point and write GeoParquet with a `chip` column.

    Points are reprojected to the raster's CRS; pixels beyond the raster or masked as nodata are NaN
    (see the `valid_fraction` column); a global lon/lat raster wraps at ±180°.

    Example: geoenc patches bluemarble.tif sample_data/cities.parquet --size 32 -o chips.parquet
    """
    from geoenc.imagery.patches import write_patches

    with progress_bar("cutting chips", quiet) as update:
        result = write_patches(
            raster,
            points,
            output,
            size,
            bands,
            skip_outside=skip_outside,
            overwrite=overwrite,
            fmt=format,
            coord_opts=o.coord_options(lon_col, lat_col, geometry_col, crs, centroid, wrap_lon),
            batch_rows=batch_size,
            progress=update,
        )
    where = "stdout" if output == "-" else output
    dropped = f" ({result.skipped:,} outside the raster dropped)" if result.skipped else ""
    b, s, _ = result.shape
    note(f"wrote {result.rows:,} chips of {b}×{s}×{s}{dropped} → {where}", quiet)


def register(app: typer.Typer) -> None:
    app.command("patches")(patches)
