"""``geoenc benchmark``: train and score many encoders (and baselines) alike; write a table and a chart."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar


def benchmark(
    train: Annotated[str, typer.Argument(help="Training points with the label column.")],
    test: Annotated[str, typer.Argument(help="Test points with the label column.")],
    label: Annotated[str, typer.Option("--label", "-l", help="The label column.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Results folder (resumable).")],
    methods: Annotated[
        str, typer.Option("--methods", help="Comma-separated encoders, or 'all'.")
    ] = "sphereM,sh,theory",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds per method (0 … N-1).")] = 1,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epoch budget per neural model.")] = 10,
    batch_size: o.BatchSize = 1024,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 1e-3,
    net: Annotated[
        str | None, typer.Option("--net", help="Net for every encoder (default: each encoder's own).")
    ] = None,
    net_param: Annotated[
        list[str] | None, typer.Option("--net-param", "-n", metavar="KEY=VALUE", help="Net parameter, repeatable.")
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="classification or regression (default: from the label).")
    ] = None,
    baselines: Annotated[
        str | None,
        typer.Option(
            "--baselines", help="Comma list of knn, random_forest, no_location, or none (default: all three)."
        ),
    ] = None,
    radius_km: Annotated[float | None, typer.Option("--radius-km", help="SSI neighbourhood radius.")] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Regression: |error| above which a point is low-performance (default: std of the test target).",
        ),
    ] = None,
    device: o.Device = "auto",
    rerun: Annotated[bool, typer.Option("--rerun", help="Run again runs that already have results.")] = False,
    quiet: o.Quiet = False,
) -> None:
    """Train and evaluate every listed encoder with the same budget, seeds and split; compare with baselines.

    Writes OUTPUT/results.csv, results.md and results.png. Finished runs are kept in OUTPUT/runs/ and skipped
    on a rerun.
    """
    from geoenc.benchmark import BenchmarkConfig, resolve_baselines, resolve_methods, run_benchmark
    from geoenc.benchmark.report import markdown_table, write_chart, write_csv, write_markdown
    from geoenc.device import resolve_device

    resolve_device(device)
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
            train, test, output, cfg, overwrite=rerun, progress=lambda what, done, total: update(done, total, run=what)
        )
    out = Path(output)
    header = (
        f"# geoenc benchmark\n\ntrain: `{train}`, test: `{test}`, label: `{label}`, epochs: {epochs}, "
        f"seeds: {seeds}, machine: {platform.machine()} with {__import__('os').cpu_count()} CPU cores"
    )
    write_csv(records, out / "results.csv")
    write_markdown(records, out / "results.md", header)
    write_chart(records, out / "results.png")
    if not quiet:
        typer.echo(markdown_table(records), err=True)
    note(f"results → {out / 'results.md'}, {out / 'results.csv'}, {out / 'results.png'}", quiet)


def register(app: typer.Typer) -> None:
    app.command("benchmark")(benchmark)
