"""``geoenc pretrain``: self-supervised contrastive pre-training of a location encoder (CSP, no labels)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar

_P = "Pre-training"


_opt = o.panel_option(_P)


def pretrain(
    data_file: Annotated[
        str,
        typer.Argument(
            metavar="DATA", help="Unlabelled points with a feature list column (GeoParquet, GeoJSON, CSV or -)."
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="PRETRAINED_DIR", help="Model directory to write.", rich_help_panel="Output"
        ),
    ],
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="List column of the other modality (image embeddings, "
            "covariates …): the same number of values in every row.",
            rich_help_panel=_P,
        ),
    ],
    method: Annotated[
        str, typer.Option("--method", "-m", help="Position encoder (see `geoenc methods`).", rich_help_panel="Model")
    ] = "sphereM",
    param: o.Params = None,
    net: Annotated[
        str | None,
        typer.Option(
            "--net",
            help="Net after the encoder: ffn, fcnet, siren, linear (default: the encoder's own).",
            rich_help_panel="Model",
        ),
    ] = None,
    net_param: Annotated[
        list[str] | None,
        typer.Option(
            "--net-param",
            "-n",
            metavar="KEY=VALUE",
            help="Net parameter, repeatable (e.g. -n hidden=256).",
            rich_help_panel="Model",
        ),
    ] = None,
    objective: Annotated[
        str,
        _opt(
            "--objective",
            help="CSP's objectives (docs/pretrain.md): mc-bld (softmax: in-batch + random-location + SimCSE "
            "dropout terms), mc (its in-batch term alone), nce-bld (sigmoid, the same three terms), nce "
            "(sigmoid: in-batch + random locations), mse (regress the features); not CSP: nce-pooled "
            "(geoenc 0.1's nce: sigmoid with temperature, in-batch and shared random negatives pooled), "
            "clip (SatCLIP's symmetric loss, learnable temperature).",
        ),
    ] = "mc-bld",
    temperature: Annotated[
        list[str] | None,
        _opt(
            "--temperature",
            metavar="[KEY=]VALUE",
            help="Temperatures of mc/mc-bld (CSP's nce has none): one number for all, or b= (in-batch), "
            "l= (random locations), d= (SimCSE); pooled= (nce-pooled), clip= (CLIP's initial value); "
            "default CSP's b=20, l=1, d=1, and pooled=0.1, clip=0.07.",
        ),
    ] = None,
    weights: Annotated[
        list[str] | None,
        _opt(
            "--weights",
            metavar="KEY=VALUE",
            help="Weights of the random-location (l) and SimCSE (d) terms of mc-bld, nce-bld, nce "
            "(default CSP's 1 each), e.g. --weights l=1,d=0.5.",
        ),
    ] = None,
    random_negatives: Annotated[
        int,
        _opt(
            "--random-negatives",
            help="Random locations per point as negatives (CSP's C; mc-bld, nce-bld, nce).",
        ),
    ] = 1,
    random_extent: Annotated[
        str,
        _opt(
            "--random-extent",
            help="Where random-location negatives come from: sphere "
            "(uniform on the globe, as in the CSP paper) or data (uniform inside the data's lon/lat "
            "bounding box: better for a regional data set).",
        ),
    ] = "sphere",
    projection_hidden: Annotated[int, _opt("--projection-hidden", help="Width of the feature projection MLP.")] = 256,
    epochs: Annotated[int, _opt("--epochs", help="Epochs.")] = 30,
    batch_size: Annotated[
        int, _opt("--batch-size", help="Points per batch (also the number of in-batch negatives + 1).")
    ] = 512,
    lr: Annotated[float, _opt("--lr", help="AdamW learning rate.")] = 1e-3,
    weight_decay: Annotated[float, _opt("--weight-decay", help="AdamW weight decay.")] = 1e-4,
    seed: Annotated[int, _opt("--seed", help="Seed for initialisation, batches and random negatives.")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel="Compute")] = "auto",
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
    """Pre-train a location encoder against per-point features, without labels, and write PRETRAINED_DIR.

    Use it with `geoenc encode --model PRETRAINED_DIR` (its embeddings) or to initialise `geoenc train`.

    Example: geoenc pretrain points.parquet --features covariates -m sphereM -o pretrained/
    """
    from geoenc.io import read_points
    from geoenc.models.checkpoint import prepare_output_dir
    from geoenc.pretrain import PretrainConfig
    from geoenc.pretrain import pretrain as run_pretrain
    from geoenc.pretrain.config import DEFAULT_TEMPERATURES, DEFAULT_WEIGHTS, parse_scalars

    cfg = PretrainConfig(
        features=features,
        method=method,
        method_params=o.parse_key_values(param, "-p"),
        net=net,
        net_params=o.parse_key_values(net_param, "-n"),
        objective=objective,
        temperatures=parse_scalars(temperature, "temperature", tuple(DEFAULT_TEMPERATURES)),
        weights=parse_scalars(weights, "weights", tuple(DEFAULT_WEIGHTS)),
        random_negatives=random_negatives,
        random_extent=random_extent,
        projection_hidden=projection_hidden,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        device=device,
    ).validate()
    prepare_output_dir(output, overwrite)
    points = read_points(
        data_file, format, opts=o.coord_options(lon_col, lat_col, geometry_col, crs, centroid, wrap_lon)
    )

    with progress_bar("pre-training", quiet) as update:
        state = {"steps": 1}

        def on_progress(ev: Any) -> None:
            if ev.kind == "start":
                state["steps"] = max(ev.steps, 1)
            total = ev.epochs * state["steps"]
            if ev.kind == "batch":
                update(ev.epoch * state["steps"] + ev.step, total, epoch=ev.epoch + 1)
            elif ev.kind == "epoch":
                update(ev.epoch * state["steps"], total, epoch=ev.epoch, loss=ev.metrics.get("loss", float("nan")))

        result = run_pretrain(cfg, points, progress=on_progress, out_dir=output, overwrite=overwrite)
    c, m = result.config, result.metrics
    note(
        f"pretrained {c['encoder']['name']} + {c['net']['name']} ({c['embedding_dim']} dims) with {cfg.objective} "
        f"against {features!r} ({c['pretrain']['feature_dim']} values) on {c['n_train']:,} points in "
        f"{m['train_seconds']:.1f}s: loss {m['first_loss']:.4f} → {m['final_loss']:.4f} → {output}",
        quiet,
    )


def register(app: typer.Typer) -> None:
    app.command("pretrain")(pretrain)
