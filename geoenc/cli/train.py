"""``geoenc train``: fit a location model (position encoder + net + head) on labelled points."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import note, progress_bar
from geoenc.errors import UsageError

_T = "Training"


_opt = o.panel_option(_T)


def train(
    train_file: Annotated[
        str, typer.Argument(metavar="TRAIN", help="Labelled training points (GeoParquet, GeoJSON, CSV or -).")
    ],
    output: Annotated[
        str,
        typer.Option("--output", "-o", metavar="MODEL_DIR", help="Model directory to write.", rich_help_panel="Output"),
    ],
    label: Annotated[
        str | None,
        _opt(
            "--label",
            "-l",
            help="Label column: classes (text/categories/few integers), "
            "numbers (regression) or lists of classes (multi-label).",
        ),
    ] = None,
    task: Annotated[
        str | None,
        _opt("--task", help="classification, multilabel or regression (default: from the label column's type)."),
    ] = None,
    val: Annotated[str | None, _opt("--val", help="Validation points (same columns as TRAIN).")] = None,
    val_fraction: Annotated[
        float | None,
        _opt("--val-fraction", help="Hold out this fraction of TRAIN for validation (seeded; stratified by class)."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method", "-m", help="Position encoder (see `geoenc methods`; default sphereM).", rich_help_panel="Model"
        ),
    ] = None,
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
    loss: Annotated[
        str | None,
        _opt(
            "--loss",
            help="ce (default for classes), an_full (presence-only, Mac Aodha 2019), bce (multi-label), "
            "mse or l1 (regression).",
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help="A list column of extra per-point features (image embeddings, covariates).",
            rich_help_panel="Model",
        ),
    ] = None,
    epochs: Annotated[int | None, _opt("--epochs", help="Epochs (default 30).")] = None,
    batch_size: Annotated[int | None, _opt("--batch-size", help="Points per batch (default 1024).")] = None,
    lr: Annotated[float | None, _opt("--lr", help="AdamW learning rate (default 1e-3).")] = None,
    weight_decay: Annotated[float | None, _opt("--weight-decay", help="AdamW weight decay (default 1e-4).")] = None,
    lr_schedule: Annotated[
        str | None, _opt("--lr-schedule", help="exp (×lr-decay per epoch, default), cosine or constant.")
    ] = None,
    lr_decay: Annotated[
        float | None, _opt("--lr-decay", help="Per-epoch factor of the exp schedule (default 0.98).")
    ] = None,
    patience: Annotated[
        int | None,
        _opt("--patience", help="Stop after this many epochs without a better validation score (default 10)."),
    ] = None,
    seed: Annotated[
        int | None, _opt("--seed", help="Seed for initialisation, batches, splits and negatives (default 0).")
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel="Compute")
    ] = None,
    amp: Annotated[
        str | None,
        typer.Option(
            "--amp", help="Mixed precision on CUDA: auto (bf16), bf16, fp16 or off.", rich_help_panel="Compute"
        ),
    ] = None,
    init: Annotated[
        str | None,
        typer.Option(
            "--init",
            help="Start the location encoder from a `geoenc pretrain` (or `train`) directory; its encoder and "
            "net are used unless -m/--net say otherwise.",
            rich_help_panel="Model",
        ),
    ] = None,
    freeze_encoder: Annotated[
        bool,
        typer.Option(
            "--freeze-encoder",
            help="With --init: train only the head on the fixed pretrained encoder.",
            rich_help_panel="Model",
        ),
    ] = False,
    train_fraction: Annotated[
        float | None,
        _opt("--train-fraction", help="Train on a seeded, class-stratified fraction of TRAIN's labels (e.g. 0.05)."),
    ] = None,
    config: Annotated[
        str | None, _opt("--config", help="YAML file of training settings; options given here win.")
    ] = None,
    resume: Annotated[bool, _opt("--resume", help="Continue an interrupted run saved in MODEL_DIR.")] = False,
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
    """Train a location model and write it to MODEL_DIR (model.safetensors, config.json, metrics, log).

    Example: geoenc train cities.parquet --label country -m sphereM --val-fraction 0.1 -o model/
    """
    from geoenc.io import read_points
    from geoenc.models.checkpoint import prepare_output_dir
    from geoenc.training import TrainConfig
    from geoenc.training import train as run_training
    from geoenc.training.loop import read_resume_state

    if val is not None and val_fraction is not None:
        raise UsageError("give either --val or --val-fraction, not both")
    prepare_output_dir(output, overwrite or resume)
    settings: dict[str, Any] = {}
    if resume:
        _, meta = read_resume_state(output)
        settings.update(meta.get("train_config", {}))
    if config is not None:
        settings.update(TrainConfig.from_yaml(config).to_dict())
    given = {
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
    }
    pre: dict[str, Any] = {}
    if init is not None:
        from geoenc.encoders import get_encoder_class
        from geoenc.pretrain.finetune import encoder_settings

        pre = encoder_settings(init)
        # the pretrained encoder and net by default; its parameters only when the same encoder/net is used
        # (a different -m or --net then fails apply_pretrained's compatibility check with a clear message)
        if method is None or get_encoder_class(method).name == get_encoder_class(pre["method"]).name:
            settings.update(method=pre["method"], method_params=pre["method_params"])
        if net is None or net.strip().lower() == str(pre["net"]).lower():
            settings.update(net=pre["net"], net_params=pre["net_params"])
        settings["init"] = init
    if freeze_encoder:
        given["freeze_encoder"] = True
    given["train_fraction"] = train_fraction
    settings.update({k: v for k, v in given.items() if v is not None})
    if param:  # with --init, given -p values override the pretrained ones
        settings["method_params"] = {**settings.get("method_params", {}), **o.parse_key_values(param, "-p")}
    if net_param:
        settings["net_params"] = {**settings.get("net_params", {}), **o.parse_key_values(net_param, "-n")}
    cfg = TrainConfig.from_dict(settings).validate()
    if cfg.label is None:
        raise UsageError("pass the label column with --label (or `label:` in --config)")

    coords = o.coord_options(lon_col, lat_col, geometry_col, crs, centroid, wrap_lon)
    train_points = read_points(train_file, format, opts=coords)
    val_points = read_points(val, format, opts=coords) if val is not None else None

    with progress_bar("training", quiet) as update:
        state = {"steps": 1}

        def on_progress(ev: Any) -> None:
            if ev.kind == "start":
                state["steps"] = max(ev.steps, 1)
            total = ev.epochs * state["steps"]
            if ev.kind == "batch":
                update(ev.epoch * state["steps"] + ev.step, total, epoch=ev.epoch + 1)
            elif ev.kind == "epoch":
                m = ev.metrics
                shown = {k: v for k, v in m.items() if k in ("train_loss", "val_top1", "val_rmse", "val_mrr")}
                update(ev.epoch * state["steps"], total, epoch=ev.epoch, **shown)

        result = run_training(
            cfg,
            train_points,
            val_points,
            progress=on_progress,
            out_dir=output,
            overwrite=overwrite,
            resume=output if resume else None,
        )
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports (and writes)
        return
    m = result.metrics
    scores = m.get("val") or m.get("train") or {}
    which = "val" if m.get("val") else "train"
    shown = ", ".join(f"{k}={v:.4f}" for k, v in scores.items() if k in ("top1", "top3", "mrr", "r2", "mae", "rmse"))
    cfgj = result.config
    what = (
        f"{cfgj['encoder']['name']} + {cfgj['net']['name']} {cfgj['task']} ({len(cfgj['classes'])} classes)"
        if cfgj.get("classes")
        else f"{cfgj['encoder']['name']} + {cfgj['net']['name']} {cfgj['task']}"
    )
    if result.interrupted:
        note(
            f"interrupted after {m['epochs_run']} epochs; resumable checkpoint in {Path(output)} "
            f"(continue with --resume)",
            quiet=False,
        )
        raise typer.Exit(130)
    note(
        f"trained {what} on {cfgj['n_train']:,} points in {m['train_seconds']:.1f}s, {m['epochs_run']} epochs "
        f"(best {m['best_epoch']}): {which} {shown} → {output}",
        quiet,
    )


def register(app: typer.Typer) -> None:
    app.command("train")(train)
