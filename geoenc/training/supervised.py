"""Supervised location models on the shared engine: :func:`train` (a plain function the CLI wraps).

The data live as tensors on the training device and batches are index sets drawn by the engine; the
position encoding runs in torch on that device, and when the encoder has no trainable parameters its
output is computed once per run and batches slice it (``cache_encoding``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from geoenc.errors import InputError, ModelError, ParameterError
from geoenc.metrics.classification import classification_metrics, merge_metrics
from geoenc.metrics.regression import regression_metrics
from geoenc.models import data as D
from geoenc.models.checkpoint import LoadedModel, read_spec, write_model_dir
from geoenc.models.location import LocationModel, build_location_encoder
from geoenc.models.spec import Component, FeatureSpec, ModelSpec
from geoenc.training.config import DEFAULT_LOSS, LOSSES, TrainConfig
from geoenc.training.engine import (
    Checkpoint,
    DivergedError,
    Engine,
    EngineConfig,
    ProgressEvent,
    RunResult,
    Seeds,
    Task,
)
from geoenc.training.losses import an_full_loss, random_sphere_lonlat, supervised_loss
from geoenc.training.memory import TRAINING_BYTES_PER_PARAM, check_fits, parameter_count

#: encodings larger than this (bytes) are computed per batch instead of cached
CACHE_LIMIT_BYTES = 2 << 30
#: rows × classes held at once when scoring a split (bounds memory with many classes)
EVAL_CELLS = 1 << 24


@dataclass
class TrainResult(RunResult):
    """The outcome of :func:`train`: the model, its spec (as saved), metrics and the per-epoch log."""

    model: LocationModel
    train_config: TrainConfig
    best_epoch: int

    @property
    def loaded(self) -> LoadedModel:
        """The trained model with the same ``embed``/``predict`` API as :func:`geoenc.models.load_model`."""
        return LoadedModel(self.model, self.spec, self.out_dir)

    def save(self, path: str | os.PathLike[str], overwrite: bool = False, *, resume: bool = False) -> Path:
        extra = self.checkpoint.files() if self.checkpoint else None
        return write_model_dir(
            path,
            self.model,
            self.spec,
            metrics=self.metrics,
            log_rows=self.history,
            resolved_yaml=self.train_config.to_yaml(),
            extra_files=extra,
            overwrite=overwrite,
            inputs=self.inputs,
            resume=resume,
        )


def encode_cached(position: nn.Module, lonlat: Any) -> Tensor:
    """A fixed position encoding of every row, computed once: float32, from float64 coordinates (exact phases).

    ``lonlat``: ``(N, 2)`` degrees (numpy or a tensor, on the device the encoding should live on).
    """
    coords = torch.as_tensor(lonlat, dtype=torch.float64, device=getattr(lonlat, "device", None))
    with torch.no_grad():
        encoded: Tensor = position(coords, dtype=torch.float32)
        return encoded


def _eval_rows(n_outputs: int) -> int:
    return int(max(1, min(16384, EVAL_CELLS // max(1, n_outputs))))


def evaluate_split(
    model: LocationModel,
    task: str,
    loss: str,
    x: Tensor,
    f: Tensor | None,
    y: np.ndarray,
    encoded: bool,
    stats: dict[str, float] | None = None,
) -> dict[str, float]:
    """Metrics on one split, in batches (classes × rows bounded); regression back in the label's units."""
    was = model.training
    model.eval()
    rows = _eval_rows(model.n_outputs)
    parts: list[dict[str, float]] = []
    outs: list[np.ndarray] = []
    with torch.no_grad():
        for i in range(0, x.shape[0], rows):
            fb = f[i : i + rows] if f is not None else None
            raw = model.forward_encoded(x[i : i + rows], fb) if encoded else model(x[i : i + rows], fb)
            out = model.scores(raw.float(), loss).cpu().numpy()
            if task == "regression":
                outs.append(out)
            else:
                parts.append(classification_metrics(out, y[i : i + rows]))
    model.train(was)
    if task == "regression":
        mean, std = (stats["mean"], stats["std"]) if stats else (0.0, 1.0)
        pred = np.concatenate(outs) * std + mean
        return regression_metrics(pred, np.asarray(y, np.float64) * std + mean)
    return merge_metrics(parts)


def _monitor(task: str, metrics: dict[str, float]) -> float:
    """Higher is better: top-1 for classification, −RMSE for regression, MRR for multi-label."""
    if task == "regression":
        return -metrics["rmse"]
    if task == "multilabel":
        return metrics["mrr"]
    return metrics["top1"]


class SupervisedTask(Task):
    """A location model on labelled points: one of the losses ce, an_full, bce, mse, l1 per batch."""

    model: LocationModel

    def __init__(
        self,
        model: LocationModel,
        task: str,
        loss: str,
        x: Tensor,
        f: Tensor | None,
        y: Tensor,
        cache: bool,
        val: tuple[Tensor, Tensor | None, np.ndarray] | None,
        stats: dict[str, float] | None,
    ) -> None:
        self.model, self.task, self.loss = model, task, loss
        self.x, self.f, self.y, self.cache, self.val, self.stats = x, f, y, cache, val, stats
        self.n_train = int(x.shape[0])

    def step(self, module: nn.Module, idx: Tensor, seeds: Seeds) -> tuple[Tensor, dict[str, Tensor]]:
        xb, yb = self.x[idx], self.y[idx]
        fb = self.f[idx] if self.f is not None else None
        if self.loss != "an_full":
            return supervised_loss(self.loss, module(xb, fb, encoded=self.cache), yb), {}
        rand = random_sphere_lonlat(idx.numel(), seeds.generator("negatives"), xb.device)
        if self.cache:
            rand = self.model.location.position(rand).to(xb.dtype)
        out = module(torch.cat((xb, rand)), None, encoded=self.cache)  # one forward (DDP needs that)
        return an_full_loss(out[: idx.numel()].float(), yb, out[idx.numel() :].float()), {}

    def evaluate(self) -> dict[str, float]:
        if self.val is None:
            return {}
        x, f, y = self.val
        return evaluate_split(self.model, self.task, self.loss, x, f, y, self.cache, self.stats)

    def score(self, metrics: dict[str, float]) -> float | None:
        return _monitor(self.task, metrics)


def _as_point_data(data: Any, cfg: TrainConfig, *, require_label: bool = True) -> D.PointData:
    if isinstance(data, D.PointData):
        return data
    if hasattr(data, "attrs") and hasattr(data, "lon"):
        if cfg.label is None:
            raise ParameterError("pass the label column (TrainConfig.label / --label)")
        return D.from_points(data, cfg.label, cfg.features, require_label=require_label)
    raise ParameterError(f"training data must be PointData or geoenc.io.Points, not {type(data).__name__}")


def engine_config(cfg: TrainConfig) -> EngineConfig:
    return EngineConfig(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        schedule=cfg.lr_schedule,
        lr_decay=cfg.lr_decay,
        patience=cfg.patience,
        seed=cfg.seed,
        device=cfg.device,
        amp=cfg.amp,
    )


def train(
    config: TrainConfig,
    train_data: Any,
    val_data: Any = None,
    *,
    progress: Any = None,
    out_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    resume: str | os.PathLike[str] | Checkpoint | None = None,
    inputs: list[str] | None = None,
) -> TrainResult:
    """Train a location model; return (and with ``out_dir``, save) it.

    Args:
        config: the settings (:class:`TrainConfig`; see :func:`geoenc.training.config.resolve_config` for how
            the CLI merges a resumed run, a YAML file, ``--init`` and flags).
        train_data: :class:`geoenc.models.data.PointData`, or :class:`geoenc.io.Points` whose ``config.label``
            (and ``config.features``) columns are used.
        val_data: validation points; without them and with ``config.val_fraction > 0`` a seeded split is held
            out (stratified by class). Early stopping watches validation top-1 (classification), MRR
            (multi-label) or RMSE (regression) and restores the best epoch's weights.
        progress: called with every :class:`~geoenc.training.engine.ProgressEvent`.
        out_dir: write the model folder here (atomically; ``overwrite`` replaces an earlier geoenc folder).
        resume: a folder (or :class:`Checkpoint`) of an interrupted run to continue exactly.
        inputs: the input files (a folder holding one is never overwritten).

    SIGINT/SIGTERM stop the run between batches: the result has ``interrupted=True`` and, with ``out_dir``,
    a resumable ``checkpoint/`` is written there. A loss that turns NaN/inf raises
    :class:`~geoenc.training.engine.DivergedError`; with ``out_dir`` the last good state is saved as a
    resumable checkpoint first.
    """
    cfg = config.validate()
    engine = Engine(engine_config(cfg), progress=progress)
    if out_dir is not None and engine.rank == 0:
        from geoenc.io.atomic import check_output_dir

        check_output_dir(out_dir, overwrite, inputs=inputs or (), resume=resume is not None)
    ck = Checkpoint.read(resume) if isinstance(resume, (str, os.PathLike)) else resume

    tr = _as_point_data(train_data, cfg)
    if tr.labels is None:
        raise InputError("training data has no labels")
    va = _as_point_data(val_data, cfg) if val_data is not None else None
    if len(tr) == 0:
        raise InputError("the training data has no points")
    if cfg.features and tr.features is None:
        raise InputError(f"feature column {cfg.features!r} missing from the training data")

    # task, loss, labels ----------------------------------------------------------------------------------
    task = cfg.task or D.infer_task(tr)
    loss_name = cfg.loss or DEFAULT_LOSS[task]
    if loss_name not in LOSSES[task]:
        raise ParameterError(f"loss {loss_name!r} does not fit task {task!r}: use one of {', '.join(LOSSES[task])}")
    classes = D.fit_classes(tr, task) if task != "regression" else None
    stats = D.target_stats(tr) if task == "regression" else None
    y_all = D.encode_labels(tr, task, classes, stats)
    seeds = engine.seeds
    if va is None and cfg.val_fraction > 0:
        strata = y_all if task == "classification" else None
        tr_idx, va_idx = D.split_validation(len(tr), cfg.val_fraction, seeds.numpy("validation"), strata)
        va, tr = tr.subset(va_idx), tr.subset(tr_idx)
        y_val, y_tr = y_all[va_idx], y_all[tr_idx]
    else:
        y_tr = y_all
        y_val = D.encode_labels(va, task, classes, stats) if va is not None and len(va) else None
    if va is not None and len(va) == 0:
        va = None
    if cfg.train_fraction < 1:
        keep = D.stratified_fraction(
            y_tr if task == "classification" else np.zeros(len(tr)), cfg.train_fraction, seeds.numpy("fraction")
        )
        tr, y_tr = tr.subset(keep), y_tr[keep]
    n_outputs = 1 if task == "regression" else len(classes or [])

    # model --------------------------------------------------------------------------------------------------
    device = engine.device
    feat_dim = int(tr.features.shape[1]) if tr.features is not None else None
    _check_memory(cfg, task, n_outputs, feat_dim, len(tr))
    with engine.init_stream():
        location = build_location_encoder(
            cfg.method, cfg.method_params, cfg.net, cfg.net_params, fit_on=tr.lonlat, seed=cfg.seed
        )
        model = LocationModel(location, task, n_outputs, feature_dim=feat_dim, feature_hidden=cfg.feature_hidden)
    model.to(device)
    position, body = location.position, location.net
    extra: dict[str, Any] = {}
    if cfg.init:
        from geoenc.models.transfer import apply_pretrained

        apply_pretrained(model, cfg.init, freeze_encoder=cfg.freeze_encoder)
        # an imported pretrained encoder (geoenc pretrained import): its source model and weights file's sha256
        source = read_spec(cfg.init).section("source")
        if source:
            extra["init_source"] = source

    spec = ModelSpec(
        encoder=Component(position.name or cfg.method, position.params),
        net=Component(body.name, body.params),
        task=task,
        loss=loss_name,
        n_outputs=n_outputs,
        classes=classes,
        label=cfg.label or tr.label_name,
        target_stats=stats,
        features=FeatureSpec(str(cfg.features), feat_dim, cfg.feature_hidden) if feat_dim else None,
        embedding_dim=model.embedding_dim,
        seed=cfg.seed,
        n_train=len(tr),
        n_val=len(va) if va is not None else 0,
        init=str(cfg.init) if cfg.init else None,
        freeze_encoder=bool(cfg.freeze_encoder),
        train_fraction=float(cfg.train_fraction),
        extra=extra,
    )
    if ck is not None:
        theirs = ck.meta.get("model_config", {})
        if theirs.get("classes") != classes or theirs.get("encoder") != {
            "name": spec.encoder.name,
            "params": _jsonable(spec.encoder.params),
        }:
            raise ModelError(
                f"{resume}: the checkpoint was trained on other classes or another encoder; "
                "resume with the same data and settings"
            )

    # data on the device -------------------------------------------------------------------------------------
    learnable = any(p.requires_grad for p in position.parameters())
    cache = cfg.cache_encoding and not learnable and len(tr) * int(position.embedding_dim) * 4 <= CACHE_LIMIT_BYTES
    lonlat_tr = torch.as_tensor(tr.lonlat, dtype=torch.float32, device=device)
    x_tr = encode_cached(position, torch.as_tensor(tr.lonlat, device=device)) if cache else lonlat_tr
    f_tr = torch.as_tensor(tr.features, device=device) if tr.features is not None else None
    val = None
    if va is not None and y_val is not None:
        lonlat_va = torch.as_tensor(va.lonlat, dtype=torch.float32, device=device)
        f_va = torch.as_tensor(va.features, device=device) if va.features is not None else None
        val = (encode_cached(position, torch.as_tensor(va.lonlat, device=device)) if cache else lonlat_va, f_va, y_val)
    job = SupervisedTask(model, task, loss_name, x_tr, f_tr, torch.as_tensor(y_tr, device=device), cache, val, stats)

    def describe(checkpoint: Checkpoint | None) -> Checkpoint | None:
        """A checkpoint also records the model and the settings, checked when the run is resumed."""
        if checkpoint is not None:
            checkpoint.meta.update(model_config=_jsonable(spec.to_dict()), train_config=_jsonable(cfg.to_dict()))
        return checkpoint

    try:
        fit = engine.fit(job, resume=ck)
    except DivergedError as e:
        if out_dir is not None and engine.rank == 0 and e.checkpoint is not None:
            _save_diverged(model, spec, cfg, describe(e.checkpoint), out_dir, overwrite, inputs, resume is not None)
            raise DivergedError(f"{e} (the last good state is resumable from {out_dir} with --resume)") from None
        raise

    metrics: dict[str, Any] = {
        "task": task,
        "loss": loss_name,
        "epochs_run": len(fit.history),
        "best_epoch": fit.best_epoch,
        "interrupted": fit.interrupted,
        "train_seconds": round(fit.seconds, 3),
        "samples_per_second": round(fit.samples / fit.seconds, 1) if fit.seconds > 0 else None,
    }
    sub = np.arange(len(tr)) if len(tr) <= 50000 else seeds.numpy("train-metrics").choice(len(tr), 50000, replace=False)
    sub_t = torch.as_tensor(sub, device=device)
    metrics["train"] = evaluate_split(
        model, task, loss_name, x_tr[sub_t], f_tr[sub_t] if f_tr is not None else None, y_tr[sub], cache, stats
    )
    if val is not None:
        metrics["val"] = evaluate_split(model, task, loss_name, *val, cache, stats)
    result = TrainResult(
        model=model,
        spec=spec,
        metrics=metrics,
        history=fit.history,
        train_config=cfg,
        best_epoch=fit.best_epoch,
        interrupted=fit.interrupted,
        checkpoint=describe(fit.checkpoint),
        inputs=list(inputs or []),
    )
    if out_dir is not None and engine.rank == 0:
        result.out_dir = result.save(out_dir, overwrite=overwrite, resume=resume is not None)
    return result


def _check_memory(cfg: TrainConfig, task: str, n_outputs: int, feat_dim: int | None, n: int) -> None:
    """Refuse a run whose model, batch or cached encoding would not fit in this machine's memory."""
    from geoenc.models.location import build_model

    laid_out: dict[str, Any] = {}

    def build() -> nn.Module:
        model = build_model(
            cfg.method,
            cfg.method_params,
            cfg.net,
            cfg.net_params,
            task,
            n_outputs,
            feature_dim=feat_dim,
            feature_hidden=cfg.feature_hidden,
        )
        laid_out["model"] = model
        return model

    params = parameter_count(build)
    if params is None:
        return
    dim = int(laid_out["model"].location.position.embedding_dim)
    # weights + gradients + AdamW moments; a batch's logits, probabilities and their gradients; the cached encoding
    estimate = TRAINING_BYTES_PER_PARAM * params + 16.0 * cfg.batch_size * (n_outputs + dim) + 4.0 * n * dim
    check_fits(
        estimate,
        f"training {cfg.method} with {params:,} parameters and {n_outputs:,} outputs on {n:,} points",
        "lower --batch-size, use fewer classes, or a smaller encoder or net (-p / -n)",
    )


def _jsonable(obj: Any) -> Any:
    import json

    return json.loads(json.dumps(obj, default=lambda o: list(o) if isinstance(o, (tuple, set)) else str(o)))


def _save_diverged(
    model: LocationModel,
    spec: ModelSpec,
    cfg: TrainConfig,
    ck: Checkpoint | None,
    out_dir: str | os.PathLike[str],
    overwrite: bool,
    inputs: list[str] | None,
    resume: bool,
) -> None:
    """Write the last good state of a diverged run as a resumable folder (weights = that state)."""
    if ck is None:
        return
    model.load_state_dict({k[len("model.") :]: v for k, v in ck.tensors.items() if k.startswith("model.")})
    write_model_dir(
        out_dir,
        model,
        spec,
        metrics={"diverged": True},
        log_rows=ck.meta.get("history", []),
        resolved_yaml=cfg.to_yaml(),
        extra_files=ck.files(),
        overwrite=overwrite,
        inputs=inputs or (),
        resume=resume,
    )


__all__ = [
    "CACHE_LIMIT_BYTES",
    "ProgressEvent",
    "SupervisedTask",
    "TrainResult",
    "encode_cached",
    "evaluate_split",
    "train",
]
