"""``geoenc encode``: embeddings for any points, file to file or through a pipe."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar
from geoenc.errors import UsageError


def encode(
    input: o.InputArg,
    output: o.Output,
    method: Annotated[
        str | None, typer.Option("--method", "-m", help="Position encoder (see `geoenc methods`).")
    ] = None,
    param: o.Params = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="A model directory from `geoenc train`/`pretrain`: write its learned embedding instead."
        ),
    ] = None,
    raster: Annotated[
        str | None,
        typer.Option(
            "--raster",
            help="With --model AE_DIR from `geoenc autoencode`: the image to cut chips from "
            "(embedding = latent, plus recon_error).",
        ),
    ] = None,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
    dtype: o.Dtype = "float32",
    seed: o.Seed = 0,
    layout: o.Layout = "list",
    output_format: o.OutputFormat = None,
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
    """Encode points with a position encoder (or a trained model) and write them with an `embedding` column.

    Example: geoenc encode sample_data/cities.parquet --method sphereM -o emb.parquet
    """
    from geoenc.encoding import encode_file

    if model is not None and (method is not None or param):
        raise UsageError("give either --method (with -p) or --model, not both")
    if model is None and method is None:
        method = "sphereM"
    params = o.parse_key_values(param)
    with progress_bar("encoding", quiet) as update:
        result = encode_file(
            input,
            output,
            method,
            params,
            fmt=format,
            output_format=output_format,
            coord_opts=o.coord_options(lon_col, lat_col, geometry_col, crs, centroid, wrap_lon),
            layout=layout,
            batch_size=batch_size,
            device=device,
            dtype=dtype,
            seed=seed,
            overwrite=overwrite,
            model=model,
            progress=update,
            raster=raster,
        )
    where = "stdout" if output == "-" else output
    note(f"encoded {result.rows:,} points with {result.method} ({result.dim} dims) → {where}", quiet)


def register(app: typer.Typer) -> None:
    app.command("encode")(encode)
