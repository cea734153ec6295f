"""``geoenc predict``: a trained model's per-point predictions (and per-point scores when labels are present)."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note

ModelArg = Annotated[str, typer.Argument(metavar="MODEL", help="Model directory written by `geoenc train`.")]
Prior = Annotated[
    str | None,
    typer.Option(
        "--prior", help="List column of another model's class probabilities (in the model's class order) to fuse with."
    ),
]
Label = Annotated[
    str | None, typer.Option("--label", "-l", help="Label column (default: the one the model was trained on).")
]


def _summary(metrics: dict) -> str:
    def fmt(m: dict) -> str:
        return ", ".join(f"{k}={v:.4f}" for k, v in m.items() if k in ("top1", "top3", "mrr", "r2", "mae", "rmse"))

    if "fused" in metrics:
        return "; ".join(f"{k}: {fmt(metrics[k])}" for k in ("location", "prior", "fused"))
    return fmt(metrics)


def predict(
    model: ModelArg,
    input: o.InputArg,
    output: o.Output,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Classes (with probabilities) to write per point.")] = 3,
    prior: Prior = None,
    label: Label = None,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
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
    """Write predictions per point: top-k classes and probabilities, or the predicted value.

    With the label column present it adds hit@1, hit@3, reciprocal_rank, true_class_prob (or error,
    abs_error): the input of `geoenc geobias`.

    Example: geoenc predict model/ test.parquet -o preds.parquet
    """
    from geoenc.device import resolve_device
    from geoenc.io import check_output, read_points, write_points
    from geoenc.models import load_model
    from geoenc.models.predict import predict_points

    check_output(output, overwrite)
    loaded = load_model(model, device=resolve_device(device))
    points = read_points(input, format, opts=o.coord_options(lon_col, lat_col, geometry_col, crs, centroid, wrap_lon))
    result = predict_points(loaded, points, top=top_k, prior=prior, label=label, batch_size=batch_size)
    provenance = {
        "command": "predict",
        "model": str(model),
        "model_hash": loaded.model_hash,
        "method": loaded.encoder_name,
        "params": loaded.encoder_params,
        "net": loaded.net_name,
        "task": loaded.task,
        "prior": prior,
    }
    import geoenc

    provenance["geoenc_version"] = geoenc.__version__
    if result.metrics:
        provenance["metrics"] = result.metrics
    write_points(
        output,
        points.lon,
        points.lat,
        points.attrs,
        result.columns,
        fmt=output_format,
        metadata=provenance,
        overwrite=overwrite,
    )
    where = "stdout" if output == "-" else output
    extra = f"; {_summary(result.metrics)}" if result.metrics else ""
    note(f"predicted {len(points):,} points with {loaded.encoder_name} + {loaded.net_name} → {where}{extra}", quiet)


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
