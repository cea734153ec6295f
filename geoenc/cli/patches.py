"""``geoenc patches``: image chips of size × size pixels around points, from any raster."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar

Raster = Annotated[
    str, typer.Argument(metavar="RASTER", help="Any raster GDAL reads (GeoTIFF, COG, VRT …) with a CRS.")
]
PointsArg = Annotated[
    str, typer.Argument(metavar="POINTS", help="Points: GeoParquet, GeoJSON, CSV file, or - for stdin.")
]
Size = Annotated[int, o.option("--size", metavar="PIXELS", min=1, help="Chip width and height in pixels.")]
Bands = Annotated[
    str | None, o.option("--bands", metavar="LIST", help="1-based bands to keep, e.g. 1,2,3 (default: all).")
]


@o.points_input
def patches(
    raster: Raster,
    points_file: PointsArg,
    output: Annotated[
        str,
        o.option(
            "--output",
            "-o",
            metavar="PATH",
            panel="Output",
            help="Output GeoParquet with a `chip` column, or - for stdout.",
        ),
    ],
    points: o.PointsInput,
    size: Size = 32,
    bands: Bands = None,
    skip_outside: Annotated[
        bool, o.flag("--skip-outside", help="Drop points outside the raster instead of failing.")
    ] = False,
    batch_size: o.BatchSize = 4096,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Cut a chip of SIZE×SIZE pixels centred on each point and write GeoParquet with a `chip` column.

    Points are reprojected to the raster's CRS; pixels beyond the raster or masked as nodata are NaN
    (see the `valid_fraction` column); a global lon/lat raster wraps at ±180°.

    Example: geoenc patches bluemarble.tif sample_data/cities.parquet --size 32 -o chips.parquet
    """
    from geoenc.workflows.patches import write_patches

    with progress_bar("cutting chips", quiet) as update:
        result = write_patches(
            raster,
            points_file,
            output,
            size,
            bands,
            skip_outside=skip_outside,
            overwrite=overwrite,
            fmt=points.format,
            coord_opts=points.coords,
            batch_rows=batch_size,
            progress=update,
        )
    where = "stdout" if output == "-" else output
    dropped = f" ({result.skipped:,} outside the raster dropped)" if result.skipped else ""
    b, s, _ = result.shape
    note(f"wrote {result.rows:,} chips of {b}×{s}×{s}{dropped} → {where}", quiet)
