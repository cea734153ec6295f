"""``geoenc encode``: embeddings for any points, file to file or through a pipe."""

from __future__ import annotations

from typing import Annotated

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar


@o.points_input
def encode(
    input: o.DatasetInputArg,
    output: o.Output,
    points: o.PointsInput,
    method: Annotated[
        str | None,
        o.option("--method", "-m", metavar="NAME", help="Position encoder (see `geoenc methods`; default sphereM)."),
    ] = None,
    param: o.Params = None,
    model: Annotated[
        str | None,
        o.option(
            "--model",
            metavar="DIR",
            help="A model folder from `geoenc train`/`pretrain`/`pretrained import`: write its learned embedding.",
        ),
    ] = None,
    raster: Annotated[
        str | None,
        o.option(
            "--raster",
            metavar="RASTER",
            help="With --model AE_DIR from `geoenc autoencode`: the image to cut chips "
            "from (embedding = latent, plus recon_error).",
        ),
    ] = None,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
    dtype: o.Dtype = "float32",
    seed: o.Seed = 0,
    layout: o.Layout = "list",
    output_format: o.OutputFormat = None,
    overwrite: o.Overwrite = False,
    engine: o.Engine = None,
    scheduler: o.Scheduler = None,
    quiet: o.Quiet = False,
) -> None:
    """Encode points with a position encoder (or a trained model) and write them with an `embedding` column.

    A dataset (a folder or a quoted glob of Parquet files) writes a dataset: one file per partition in the
    folder -o; a re-run does only the partitions not yet written. --engine dask runs the partitions (or the row
    groups of one big Parquet file) as tasks on a Dask cluster.

    Example: geoenc encode sample_data/cities.parquet --method sphereM -o emb.parquet
    """
    from geoenc.workflows.encode import encode_file

    params = o.parse_key_values(param)
    if o.dataset_run(input, engine, scheduler):
        from geoenc.workflows.dataset import encode_dataset

        o.dataset_output_format(output_format)
        with o.open_engine(engine, scheduler, quiet) as mapper, progress_bar("partitions", quiet) as update:
            res = encode_dataset(
                input,
                output,
                method,
                params,
                model=model,
                fmt=points.format,
                coord_opts=points.coords,
                layout=layout,
                batch_size=batch_size,
                device=device,
                dtype=dtype,
                seed=seed,
                overwrite=overwrite,
                mapper=mapper,
                progress=update,
                log=lambda msg: note(msg, quiet),
            )
        note(f"encoded {o.dataset_summary(res)} with {res.label} ({res.dim} dims) → {output}", quiet)
        return
    with progress_bar("encoding", quiet) as update:
        result = encode_file(
            input,
            output,
            method,
            params,
            model=model,
            raster=raster,
            fmt=points.format,
            output_format=output_format,
            coord_opts=points.coords,
            layout=layout,
            batch_size=batch_size,
            device=device,
            dtype=dtype,
            seed=seed,
            overwrite=overwrite,
            progress=update,
        )
    where = "stdout" if output == "-" else output
    note(f"encoded {result.rows:,} points with {result.method} ({result.dim} dims) → {where}", quiet)
