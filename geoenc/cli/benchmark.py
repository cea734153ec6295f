"""``geoenc benchmark``: train and score many encoders (and baselines) alike; write a table and a chart."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar


@o.points_input
def benchmark(
    train: Annotated[str, typer.Argument(metavar="TRAIN", help="Training points with the label column.")],
    test: Annotated[str, typer.Argument(metavar="TEST", help="Test points with the label column.")],
    label: Annotated[str, o.option("--label", "-l", metavar="COLUMN", help="The label column.")],
    output: Annotated[
        str, o.option("--output", "-o", metavar="DIR", help="Results folder (resumable).", panel="Output")
    ],
    points: o.PointsInput,
    methods: Annotated[
        str, o.option("--methods", metavar="NAMES", help="Comma-separated encoders, or 'all'.")
    ] = "sphereM,sh,theory",
    seeds: Annotated[int, o.option("--seeds", metavar="N", min=1, help="Seeds per method (0 … N-1).")] = 1,
    epochs: Annotated[int, o.option("--epochs", metavar="N", min=1, help="Epoch budget per neural model.")] = 10,
    batch_size: o.BatchSize = 1024,
    lr: Annotated[float, o.option("--lr", metavar="LR", help="Learning rate.")] = 1e-3,
    net: Annotated[
        str | None, o.option("--net", metavar="NAME", help="Net for every encoder (default: each encoder's own).")
    ] = None,
    net_param: o.NetParams = None,
    task: Annotated[
        str | None, o.option("--task", metavar="TASK", help="classification or regression (default: from the label).")
    ] = None,
    baselines: Annotated[
        str | None,
        o.option(
            "--baselines",
            metavar="NAMES",
            help=("Comma list of knn, random_forest, no_location, or none (default: all three)."),
        ),
    ] = None,
    radius_km: Annotated[float | None, o.option("--radius-km", metavar="KM", help="SSI neighbourhood radius.")] = None,
    threshold: Annotated[
        float | None,
        o.option(
            "--threshold",
            metavar="X",
            help=("Regression: |error| above which a point is low-performance (default: std of the test target)."),
        ),
    ] = None,
    device: o.Device = "auto",
    rerun: Annotated[bool, o.flag("--rerun", help="Run again runs that already have results.")] = False,
    quiet: o.Quiet = False,
) -> None:
    """Train and evaluate every listed encoder with the same budget, seeds and split; compare with baselines.

    Writes OUTPUT/results.csv, results.md and results.png and prints the table on stdout. Finished runs are
    kept in OUTPUT/runs/ and skipped on a rerun.
    """
    from geoenc.benchmark.report import markdown_table
    from geoenc.workflows.benchmark import BenchmarkConfig, resolve_baselines, resolve_methods, run_benchmark

    cfg = BenchmarkConfig(
        label=label,
        methods=resolve_methods(methods),
        seeds=seeds,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        net=net,
        net_params=o.parse_key_values(net_param, "-n"),
        task=task,
        baselines=resolve_baselines(baselines),
        radius_km=radius_km,
        threshold=threshold,
        device=device,
    )
    with progress_bar("benchmark", quiet) as update:
        records = run_benchmark(
            train,
            test,
            output,
            cfg,
            overwrite=rerun,
            fmt=points.format,
            coord_opts=points.coords,
            progress=lambda what, done, total: update(done, total, run=what),
        )
    typer.echo(markdown_table(records), nl=False)
    note(f"results → {output}/results.md, results.csv, results.png", quiet)
