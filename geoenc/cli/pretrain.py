"""``geoenc pretrain``: self-supervised contrastive pre-training of a location encoder (CSP, no labels)."""

from __future__ import annotations

from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar
from geoenc.defaults import DEFAULT_METHOD

_P = "Pre-training"


_opt = o.panel_option(_P)


@o.points_input
def pretrain(
    data_file: Annotated[
        str,
        typer.Argument(
            metavar="DATA", help="Unlabelled points with a feature list column (GeoParquet, GeoJSON, CSV or -)."
        ),
    ],
    output: Annotated[
        str,
        o.option("--output", "-o", metavar="PRETRAINED_DIR", help="Model directory to write.", panel="Output"),
    ],
    points: o.PointsInput,
    features: Annotated[
        str,
        o.option(
            "--features",
            metavar="COLUMN",
            help="List column of the other modality (image embeddings, "
            "covariates …): the same number of values in every row.",
            panel=_P,
        ),
    ],
    method: Annotated[
        str | None,
        o.option("--method", "-m", metavar="NAME", panel="Model", help="Position encoder (default sphereM)."),
    ] = None,
    param: o.Params = None,
    net: Annotated[
        str | None,
        o.option(
            "--net",
            metavar="NAME",
            help="Net after the encoder: ffn, fcnet, siren, linear (default: the encoder's own).",
            panel="Model",
        ),
    ] = None,
    net_param: o.NetParams = None,
    objective: Annotated[
        str,
        _opt(
            "--objective",
            metavar="NAME",
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
            metavar="C",
            help="Random locations per point as negatives (CSP's C; mc-bld, nce-bld, nce).",
        ),
    ] = 1,
    random_extent: Annotated[
        str,
        _opt(
            "--random-extent",
            metavar="sphere|data",
            help="Where random-location negatives come from: sphere "
            "(uniform on the globe, as in the CSP paper) or data (uniform inside the data's lon/lat "
            "bounding box: better for a regional data set).",
        ),
    ] = "sphere",
    projection_hidden: Annotated[
        int, _opt("--projection-hidden", metavar="N", help="Width of the feature projection MLP.")
    ] = 256,
    epochs: Annotated[int, _opt("--epochs", metavar="N", help="Epochs.")] = 30,
    batch_size: Annotated[
        int, _opt("--batch-size", metavar="N", help="Points per batch (also the number of in-batch negatives + 1).")
    ] = 512,
    lr: Annotated[float, _opt("--lr", metavar="LR", help="AdamW learning rate.")] = 1e-3,
    weight_decay: Annotated[float, _opt("--weight-decay", metavar="WD", help="AdamW weight decay.")] = 1e-4,
    seed: Annotated[
        int, _opt("--seed", metavar="N", help="Seed for initialisation, batches and random negatives.")
    ] = 0,
    val_fraction: Annotated[
        float,
        _opt(
            "--val-fraction",
            metavar="F",
            help=("Hold out this fraction of the points to watch the objective on unseen points (early stopping)."),
        ),
    ] = 0.0,
    patience: Annotated[
        int | None,
        _opt(
            "--patience",
            metavar="N",
            help=("With --val-fraction: stop after this many epochs without a lower held-out loss."),
        ),
    ] = None,
    resume: Annotated[bool, o.flag("--resume", panel=_P, help="Continue the interrupted run saved in -o.")] = False,
    device: o.Device = "auto",
    amp: Annotated[
        str,
        o.option(
            "--amp", metavar="MODE", panel="Compute", help=("Mixed precision on CUDA: auto (bf16), bf16, fp16 or off.")
        ),
    ] = "auto",
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Pre-train a location encoder against per-point features, without labels, and write PRETRAINED_DIR.

    Use it with `geoenc encode --model PRETRAINED_DIR` (its embeddings) or to initialise `geoenc train`.

    Example: geoenc pretrain points.parquet --features covariates -m sphereM -o pretrained/
    """
    from geoenc.pretrain import PretrainConfig
    from geoenc.pretrain.config import DEFAULT_TEMPERATURES, DEFAULT_WEIGHTS, parse_scalars
    from geoenc.workflows.train import pretrain_file

    cfg = PretrainConfig(
        features=features,
        method=method or DEFAULT_METHOD,
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
        amp=amp,
        val_fraction=val_fraction,
        patience=patience,
    ).validate()
    with progress_bar("pre-training", quiet) as update:
        result = pretrain_file(
            cfg,
            data_file,
            output,
            fmt=points.format,
            coord_opts=points.coords,
            overwrite=overwrite,
            resume=resume,
            progress=o.engine_progress(update),
        )
    spec, m = result.spec, result.metrics
    if result.interrupted:
        note(
            f"interrupted after {m['epochs_run']} epochs; resumable checkpoint in {output} (continue with --resume)",
            quiet=False,
        )
        raise typer.Exit(130)
    note(
        f"pretrained {spec.encoder.name} + {spec.net.name} ({spec.embedding_dim} dims) with {cfg.objective} "
        f"against {features!r} ({spec.section('pretrain')['feature_dim']} values) on {spec.n_train:,} points in "
        f"{m['train_seconds']:.1f}s: loss {m['first_loss']:.4f} → {m['final_loss']:.4f} → {output}",
        quiet,
    )
