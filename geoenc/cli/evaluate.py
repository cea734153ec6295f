"""``geoenc evaluate``: a trained model's metrics on labelled points, as a table or JSON on stdout."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from geoenc.cli import options as o
from geoenc.cli.predict import Label, ModelArg, Prior
from geoenc.cli.progress import echo_json


def _rows(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for k, v in metrics.items():
        if isinstance(v, dict):
            rows += _rows(v, f"{prefix}{k}.")
        else:
            rows.append((prefix + k, v))
    return rows


def format_table(metrics: dict[str, Any]) -> str:
    rows = _rows(metrics)
    width = max([6] + [len(k) for k, _ in rows])
    lines = [f"{'metric':<{width}}  value"]
    for k, v in rows:
        text = ("nan" if math.isnan(v) else f"{v:.4f}") if isinstance(v, float) else str(v)
        lines.append(f"{k:<{width}}  {text}")
    return "\n".join(lines) + "\n"


@o.points_input
def evaluate(
    model: ModelArg,
    input: o.InputArg,
    points: o.PointsInput,
    as_json: Annotated[bool, o.flag("--json", help="Print the metrics as JSON.")] = False,
    prior: Prior = None,
    label: Label = None,
    batch_size: o.BatchSize = 65_536,
    device: o.Device = "auto",
) -> None:
    """Print top-1/top-3 accuracy and MRR (classification) or R², MAE, RMSE (regression) on labelled points.

    With --prior, metrics for the location model, the prior and their fusion.

    Example: geoenc evaluate model/ test.parquet --json
    """
    from geoenc.workflows.predict import evaluate_file

    metrics = evaluate_file(
        model,
        input,
        prior=prior,
        label=label,
        batch_size=batch_size,
        device=device,
        fmt=points.format,
        coord_opts=points.coords,
    )
    if as_json:
        echo_json(metrics)
    else:
        typer.echo(format_table(metrics), nl=False)
