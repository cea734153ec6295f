"""``geoenc train``: fit a location model (position encoder + net + head) on labelled points."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar
from geoenc.defaults import (
    TRAIN_BATCH_SIZE,
    TRAIN_EPOCHS,
    TRAIN_LR,
    TRAIN_LR_SCHEDULE,
    TRAIN_METHOD,
    TRAIN_WEIGHT_DECAY,
)
from geoenc.errors import UsageError

_opt = o.panel_option("Training")
_model = o.panel_option("Model")


@o.points_input
def train(
    train_file: Annotated[
        str,
        typer.Argument(
            metavar="TRAIN",
            help="Labelled training points (GeoParquet, GeoJSON, CSV, a URL, - or a dataset: a folder or quoted glob "
            "of Parquet files).",
        ),
    ],
    output: Annotated[
        str, o.option("--output", "-o", metavar="MODEL_DIR", help="Model folder to write.", panel="Output")
    ],
    points: o.PointsInput,
    label: Annotated[
        str | None,
        _opt(
            "--label",
            "-l",
            metavar="COLUMN",
            help=(
                "Label column: classes (text/categories/few integers), numbers (regression) or lists of classes "
                "(multi-label)."
            ),
        ),
    ] = None,
    task: Annotated[
        str | None,
        _opt(
            "--task",
            metavar="TASK",
            help=("classification, multilabel or regression (default: from the label column's type)."),
        ),
    ] = None,
    val: Annotated[str | None, _opt("--val", metavar="PATH", help="Validation points (same columns as TRAIN).")] = None,
    val_fraction: Annotated[
        float | None,
        _opt(
            "--val-fraction",
            metavar="F",
            help=("Hold out this fraction of TRAIN for validation and early stopping (seeded; stratified by class)."),
        ),
    ] = None,
    method: Annotated[
        str | None,
        _model(
            "--method",
            "-m",
            metavar="NAME",
            help=f"Position encoder (see `geoenc methods`; default {TRAIN_METHOD}, or the --init folder's).",
        ),
    ] = None,
    param: o.Params = None,
    net: Annotated[
        str | None,
        _model(
            "--net",
            metavar="NAME",
            help=("Net after the encoder: ffn, fcnet, siren, linear (default: the encoder's own)."),
        ),
    ] = None,
    net_param: o.NetParams = None,
    loss: Annotated[
        str | None,
        _opt(
            "--loss",
            metavar="NAME",
            help=(
                "ce (default for classes), an_full (presence-only, Mac Aodha 2019), bce (multi-label), mse or l1 "
                "(regression)."
            ),
        ),
    ] = None,
    features: Annotated[
        str | None,
        _model(
            "--features",
            metavar="COLUMN",
            help=("A list column of extra per-point features (image embeddings, covariates)."),
        ),
    ] = None,
    epochs: Annotated[int | None, _opt("--epochs", metavar="N", help=f"Epochs (default {TRAIN_EPOCHS}).")] = None,
    batch_size: Annotated[
        int | None, _opt("--batch-size", metavar="N", help=f"Points per batch (default {TRAIN_BATCH_SIZE}).")
    ] = None,
    lr: Annotated[float | None, _opt("--lr", metavar="LR", help=f"AdamW learning rate (default {TRAIN_LR:g}).")] = None,
    weight_decay: Annotated[
        float | None, _opt("--weight-decay", metavar="WD", help=f"AdamW weight decay (default {TRAIN_WEIGHT_DECAY:g}).")
    ] = None,
    lr_schedule: Annotated[
        str | None,
        _opt(
            "--lr-schedule",
            metavar="NAME",
            help=f"cosine (to zero over the epochs), exp (×lr-decay per epoch) or constant "
            f"(default {TRAIN_LR_SCHEDULE}).",
        ),
    ] = None,
    lr_decay: Annotated[
        float | None, _opt("--lr-decay", metavar="F", help="Per-epoch factor of the exp schedule (default 0.98).")
    ] = None,
    patience: Annotated[
        int | None,
        _opt(
            "--patience",
            metavar="N",
            help=("Stop after this many epochs without a better validation score (default 10)."),
        ),
    ] = None,
    seed: Annotated[
        int | None,
        _opt("--seed", metavar="N", help=("Seed for initialisation, batches, splits and negatives (default 0).")),
    ] = None,
    device: Annotated[
        str | None, o.option("--device", metavar="DEVICE", help="auto, cpu, cuda or cuda:N.", panel="Compute")
    ] = None,
    amp: Annotated[
        str | None,
        o.option(
            "--amp", metavar="MODE", panel="Compute", help=("Mixed precision on CUDA: auto (bf16), bf16, fp16 or off.")
        ),
    ] = None,
    init: Annotated[
        str | None,
        _model(
            "--init",
            metavar="DIR",
            help=(
                "Start the location encoder from a `geoenc pretrain`, `pretrained import` or `train` folder; "
                "its encoder and net are used unless -m/--net say otherwise."
            ),
        ),
    ] = None,
    freeze_encoder: Annotated[
        bool,
        o.flag(
            "--freeze-encoder",
            panel="Model",
            help=("With --init: train only the head on the fixed pretrained encoder (a linear probe)."),
        ),
    ] = False,
    train_fraction: Annotated[
        float | None,
        _opt(
            "--train-fraction",
            metavar="F",
            help=("Train on a seeded, class-stratified fraction of TRAIN's labels (e.g. 0.05)."),
        ),
    ] = None,
    config: Annotated[
        str | None, _opt("--config", metavar="YAML", help=("YAML file of training settings; options given here win."))
    ] = None,
    resume: Annotated[
        bool,
        o.flag(
            "--resume",
            panel="Training",
            help=("Continue the interrupted run saved in MODEL_DIR (settings given here win)."),
        ),
    ] = False,
    overwrite: o.Overwrite = False,
    quiet: o.Quiet = False,
) -> None:
    """Train a location model and write it to MODEL_DIR (model.safetensors, config.json, metrics, log).

    Settings come from, later ones winning: a resumed run, --config, the --init folder's encoder and net,
    then the options given here.

    Example: geoenc train cities.parquet --label country -m sphereM --val-fraction 0.1 -o model/
    """
    from geoenc.training.config import resolve_config
    from geoenc.workflows.train import train_files

    if val is not None and val_fraction is not None:
        raise UsageError("give either --val or --val-fraction, not both")
    flags = {
        "label": label,
        "task": task,
        "val_fraction": val_fraction,
        "method": method,
        "net": net,
        "loss": loss,
        "features": features,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "lr_schedule": lr_schedule,
        "lr_decay": lr_decay,
        "patience": patience,
        "seed": seed,
        "device": device,
        "amp": amp,
        "train_fraction": train_fraction,
        "freeze_encoder": freeze_encoder or None,
        "method_params": o.parse_key_values(param, "-p") if param else None,
        "net_params": o.parse_key_values(net_param, "-n") if net_param else None,
    }
    cfg = resolve_config(flags, config_file=config, resume=output if resume else None, init=init)
    if cfg.label is None:
        raise UsageError("pass the label column with --label (or `label:` in --config)")
    with progress_bar("training", quiet) as update:
        result = train_files(
            cfg,
            train_file,
            output,
            val_source=val,
            fmt=points.format,
            coord_opts=points.coords,
            overwrite=overwrite,
            resume=resume,
            progress=o.engine_progress(update),
        )
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports (and writes)
        return
    m, spec = result.metrics, result.spec
    if result.interrupted:
        note(
            f"interrupted after {m['epochs_run']} epochs; resumable checkpoint in {output} (continue with --resume)",
            quiet=False,
        )
        raise typer.Exit(130)
    scores = m.get("val") or m.get("train") or {}
    which = "validation" if m.get("val") else "TRAINING-set (no validation split: pass --val-fraction 0.1)"
    shown = ", ".join(f"{k}={v:.4f}" for k, v in scores.items() if k in ("top1", "top3", "mrr", "r2", "mae", "rmse"))
    what = f"{spec.encoder.name} + {spec.net.name} {spec.task}"
    if spec.classes:
        what += f" ({len(spec.classes)} classes)"
    note(
        f"trained {what} on {spec.n_train:,} points in {m['train_seconds']:.1f}s, {m['epochs_run']} epochs "
        f"(best {m['best_epoch']}): {which} {shown} → {output}",
        quiet,
    )
