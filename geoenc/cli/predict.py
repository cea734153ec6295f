"""``geoenc predict``: a trained model's per-point predictions (and per-point scores when labels are present)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar

ModelArg = Annotated[str, typer.Argument(metavar="MODEL", help="Model folder written by `geoenc train`.")]
Prior = Annotated[
    str | None,
    o.option(
        "--prior",
        metavar="COLUMN",
        help="List column of another model's class probabilities (in the model's class order) to fuse with.",
    ),
]
Label = Annotated[
    str | None,
    o.option("--label", "-l", metavar="COLUMN", help="Label column (default: the one the model was trained on)."),
]


def summary(metrics: dict[str, Any]) -> str:
    def fmt(m: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v:.4f}" for k, v in m.items() if k in ("top1", "top3", "mrr", "r2", "mae", "rmse"))

    if "fused" in metrics:
        return "; ".join(f"{k}: {fmt(metrics[k])}" for k in ("location", "prior", "fused"))
    return fmt(metrics)


@o.points_input
def predict(
    model: ModelArg,
    input: o.DatasetInputArg,
    output: o.Output,
    points: o.PointsInput,
    top_k: Annotated[
        int, o.option("--top-k", metavar="K", min=1, help="Classes (with probabilities) to write per point.")
    ] = 3,
    prior: Prior = None,
    label: Label = None,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
    output_format: o.OutputFormat = None,
    overwrite: o.Overwrite = False,
    engine: o.Engine = None,
    scheduler: o.Scheduler = None,
    quiet: o.Quiet = False,
) -> None:
    """Write predictions per point: top-k classes and probabilities, or the predicted value.

    With the label column present it adds hit@1, hit@3, reciprocal_rank, true_class_prob (or error,
    abs_error): the input of `geoenc geobias`.

    A dataset (a folder or a quoted glob of Parquet files) writes a dataset, one file per partition; --engine
    dask runs the partitions as tasks on a Dask cluster (docs/scale.md).

    Example: geoenc predict model/ test.parquet -o preds.parquet
    """
    from geoenc.workflows.predict import predict_file

    if o.dataset_run(input, engine, scheduler):
        from geoenc.workflows.dataset import predict_dataset

        o.dataset_output_format(output_format)
        with o.open_engine(engine, scheduler, quiet) as mapper, progress_bar("partitions", quiet) as update:
            ds = predict_dataset(
                model,
                input,
                output,
                top=top_k,
                prior=prior,
                label=label,
                batch_size=batch_size,
                device=device,
                fmt=points.format,
                coord_opts=points.coords,
                overwrite=overwrite,
                mapper=mapper,
                progress=update,
                log=lambda msg: note(msg, quiet),
            )
        extra = f"; {summary(ds.metrics)}" if ds.metrics else ""
        note(f"predicted {o.dataset_summary(ds)} with {ds.label} → {output}{extra}", quiet)
        return

    with progress_bar("predicting", quiet) as update:
        res = predict_file(
            model,
            input,
            output,
            top=top_k,
            prior=prior,
            label=label,
            batch_size=batch_size,
            device=device,
            fmt=points.format,
            output_format=output_format,
            coord_opts=points.coords,
            overwrite=overwrite,
            progress=update,
        )
    where = "stdout" if output == "-" else output
    extra = f"; {summary(res.metrics)}" if res.metrics else ""
    note(f"predicted {res.rows:,} points with {res.model.encoder_name} + {res.model.net_name} → {where}{extra}", quiet)
