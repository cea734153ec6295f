"""``geoenc evaluate``: a trained model's metrics on labelled points, as a table or JSON on stdout."""

from __future__ import annotations

import json
import math
from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.predict import Label, ModelArg, Prior


def _rows(metrics: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for k, v in metrics.items():
        if isinstance(v, dict):
            rows += _rows(v, f"{prefix}{k}.")
        else:
            rows.append((prefix + k, v))
    return rows


def format_table(metrics: dict) -> str:
    rows = _rows(metrics)
    width = max([6] + [len(k) for k, _ in rows])
    lines = [f"{'metric':<{width}}  value"]
    for k, v in rows:
        if isinstance(v, float):
            text = "nan" if math.isnan(v) else f"{v:.4f}"
        else:
            text = str(v)
        lines.append(f"{k:<{width}}  {text}")
    return "\n".join(lines) + "\n"


def evaluate(
    model: ModelArg,
    input: o.InputArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    prior: Prior = None,
    label: Label = None,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
    format: o.InputFormat = None,
    lon_col: o.LonCol = None,
    lat_col: o.LatCol = None,
    geometry_col: o.GeometryCol = None,
    crs: o.Crs = None,
    centroid: o.Centroid = False,
    wrap_lon: o.WrapLon = False,
) -> None:
    """Print top-1/top-3 accuracy and MRR (classification) or R², MAE, RMSE (regression) on labelled points.

    With --prior, metrics for the location model, the prior and their fusion.

    Example: geoenc evaluate model/ test.parquet --json
    """
    from geoenc.device import resolve_device
    from geoenc.io import read_points
    from geoenc.models import load_model
    from geoenc.models.predict import evaluate_points

    loaded = load_model(model, device=resolve_device(device))
    points = read_points(input, format, opts=o.coord_options(lon_col, lat_col, geometry_col, crs, centroid, wrap_lon))
    metrics = evaluate_points(loaded, points, prior=prior, label=label, batch_size=batch_size)
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
    else:
        typer.echo(format_table(metrics), nl=False)


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
