"""Contrastive spatial pre-training (CSP): :func:`pretrain`, a plain function the CLI wraps.

The location encoder (position encoder + net, :class:`geoenc.models.LocationEncoder`) learns, without
labels, to match each point's location with another modality's features at that point (image
embeddings, environmental covariates …) through a small feature projection. Only the location encoder is
what a user keeps: it is written as a model directory that :func:`geoenc.models.load_model` reads
(``embed``), ``geoenc encode --model`` uses, and :func:`geoenc.pretrain.apply_pretrained` copies into a
``geoenc train`` model for fine-tuning.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from geoenc.errors import InputError, ModelError, ParameterError
from geoenc.models.checkpoint import write_model_dir
from geoenc.models.data import PointData, from_points, split_validation
from geoenc.models.location import LocationEncoder, LocationModel, build_location_encoder
from geoenc.models.spec import Component, ModelSpec
from geoenc.pretrain import objectives as O
from geoenc.pretrain.config import PretrainConfig
from geoenc.pretrain.model import DualEncoder
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
from geoenc.training.supervised import CACHE_LIMIT_BYTES, encode_cached

#: the pretrained directory's extra weights (feature projection, mse head, CLIP logit scale)
EXTRAS_FILE = "pretrain/extras.safetensors"
#: ``config.json`` → ``kind`` of a pretrained-encoder directory
KIND = "pretrained_encoder"


@dataclass
class PretrainResult(RunResult):
    """The pretrained dual encoder, the spec saved with it, and the per-epoch log."""

    model: DualEncoder
    pretrain_config: PretrainConfig

    @property
    def location(self) -> LocationEncoder:
        return self.model.location

    def save(self, path: str | os.PathLike[str], overwrite: bool = False, *, resume: bool = False) -> Path:
        return save_pretrained(path, self, overwrite=overwrite, resume=resume)


def as_pretrain_data(data: Any, features: str | None) -> PointData:
    """:class:`PointData` with a features matrix, from ``PointData`` or :class:`geoenc.io.Points`."""
    if hasattr(data, "attrs") and hasattr(data, "lon"):
        if not features:
            raise ParameterError("pass the feature column (PretrainConfig.features / --features)")
        data = from_points(data, None, features, require_label=False)
    if not isinstance(data, PointData):
        raise ParameterError(f"pre-training data must be PointData or geoenc.io.Points, not {type(data).__name__}")
    if data.features is None:
        raise InputError("pre-training needs a feature column (a list of numbers per point): pass --features")
    if len(data) < 2:
        raise InputError(f"pre-training needs at least 2 points (contrastive pairs), got {len(data)}")
    return data


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation (a constant column gets std 1, so it maps to 0)."""
    f = features.astype(np.float64)
    mean, std = f.mean(axis=0), f.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return mean, std


def random_locations(
    n: int, generator: torch.Generator, extent: tuple[float, float, float, float] | None, device: torch.device
) -> Tensor:
    """Random-location negatives: uniform on the sphere, or by area inside ``extent`` when given."""
    if extent is None:
        return O.random_sphere_lonlat(n, generator, device)
    return O.random_lonlat_in_extent(n, generator, extent, device)


def batch_loss(
    model: DualEncoder,
    cfg: PretrainConfig,
    loc: Tensor,
    feats: Tensor,
    second_pass: Callable[[], Tensor],
    draw_random: Callable[[int], Tensor],
) -> tuple[Tensor, dict[str, float]]:
    """The objective on one batch: ``loc`` location embeddings ``(N, d)``, ``feats`` standardised features.

    ``second_pass()`` re-embeds the batch's locations (other dropout masks, for the SimCSE term of
    ``mc-bld``/``nce-bld``); ``draw_random(k)`` gives ``k`` random lon/lat negatives: ``C·N`` of them, C =
    ``cfg.random_negatives`` per point, row ``k·N + i`` for point ``i`` (CSP's layout; ``nce-pooled``
    shares all of them across the batch), embedded by the location encoder in training mode as CSP does.
    Returns the loss and its named (unweighted) terms.
    """
    t, w = cfg.temperatures, cfg.weights
    if cfg.objective == "mse":
        if model.head is None:
            raise ModelError("the mse objective needs the dual encoder's head: build DualEncoder with objective 'mse'")
        return O.mse_loss(model.head(loc), feats), {}
    if model.projection is None:
        raise ModelError(f"the {cfg.objective} objective needs a feature projection: build DualEncoder with it")
    loc_n, feat_n = O.normalize(loc), O.normalize(model.projection(feats))
    if cfg.objective == "mc":
        return O.mc_loss(loc_n, feat_n, t["b"]), {}
    if cfg.objective == "clip":
        if model.logit_scale is None:
            raise ModelError("the clip objective needs a logit scale: build DualEncoder with objective 'clip'")
        return O.clip_loss(loc_n, feat_n, model.logit_scale), {}
    n = loc.shape[0]
    rand = None
    if cfg.objective in O.USES_RANDOM_LOCATIONS and w["l"] > 0:
        rand = O.normalize(model.location(draw_random(cfg.random_negatives * n)))
    second = O.normalize(second_pass()) if cfg.objective in O.USES_DROPOUT_PASS and w["d"] > 0 else None
    if cfg.objective == "nce-pooled":
        return O.nce_pooled_loss(loc_n, feat_n, rand, t["pooled"]), {}
    if cfg.objective in ("nce", "nce-bld"):
        return O.nce_loss(loc_n, feat_n, rand, second, weight_l=w["l"], weight_d=w["d"], return_parts=True)
    return O.mc_bld_loss(
        loc_n,
        feat_n,
        rand,
        second,
        temperature_b=t["b"],
        temperature_l=t["l"],
        temperature_d=t["d"],
        weight_l=w["l"],
        weight_d=w["d"],
        return_parts=True,
    )


class PretrainTask(Task):
    """Contrastive pre-training: the objective of :func:`batch_loss` on each batch of points."""

    model: DualEncoder

    def __init__(
        self,
        model: DualEncoder,
        cfg: PretrainConfig,
        x: Tensor,
        feats: Tensor,
        cache: bool,
        extent: tuple[float, float, float, float] | None,
        val: tuple[Tensor, Tensor] | None,
    ) -> None:
        self.model, self.cfg, self.x, self.feats, self.cache = model, cfg, x, feats, cache
        self.extent, self.val = extent, val
        self.n_train = int(x.shape[0])
        self._val_seeds = Seeds(cfg.seed)

    def _embed(self, module: nn.Module, xb: Tensor) -> Tensor:
        out: Tensor = module(xb, encoded=self.cache)
        return out

    def _loss(
        self, module: nn.Module, x: Tensor, feats: Tensor, gen: torch.Generator
    ) -> tuple[Tensor, dict[str, Tensor]]:
        loss, parts = batch_loss(
            self.model,
            self.cfg,
            self._embed(module, x),
            feats,
            lambda: self._embed(module, x),
            lambda k: random_locations(k, gen, self.extent, x.device),
        )
        return loss, {k: torch.as_tensor(v) for k, v in parts.items()}

    def step(self, module: nn.Module, idx: Tensor, seeds: Seeds) -> tuple[Tensor, dict[str, Tensor]]:
        return self._loss(module, self.x[idx], self.feats[idx], seeds.generator("negatives"))

    def evaluate(self) -> dict[str, float]:
        if self.val is None:
            return {}
        x, feats = self.val
        was = self.model.training
        self.model.eval()
        gen = torch.Generator().manual_seed(self._val_seeds.seed_for("val-negatives"))  # the same every epoch
        bs = min(self.cfg.batch_size, x.shape[0])
        total, n = 0.0, 0
        with torch.no_grad():
            for i in range(0, x.shape[0] - bs + 1, bs):
                loss, _ = self._loss(self.model, x[i : i + bs], feats[i : i + bs], gen)
                total += float(loss) * bs
                n += bs
        self.model.train(was)
        return {"loss": total / max(n, 1), "n": n}

    def score(self, metrics: dict[str, float]) -> float | None:
        return -metrics["loss"]

    def log(self) -> dict[str, float]:
        if self.model.logit_scale is None:
            return {}
        return {"temperature": float(torch.exp(-self.model.logit_scale.detach()))}


def engine_config(cfg: PretrainConfig) -> EngineConfig:
    return EngineConfig(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        schedule="constant",
        patience=cfg.patience,
        drop_last=True,
        seed=cfg.seed,
        device=cfg.device,
        amp=cfg.amp,
    )


def pretrain(
    config: PretrainConfig,
    data: Any,
    *,
    progress: Callable[[ProgressEvent], None] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    resume: str | os.PathLike[str] | Checkpoint | None = None,
    inputs: list[str] | None = None,
) -> PretrainResult:
    """Pre-train a location encoder against the features of ``data``; return (and with ``out_dir``, save) it.

    Args:
        config: the settings (:class:`PretrainConfig`).
        data: :class:`geoenc.models.data.PointData` with ``features``, or :class:`geoenc.io.Points` (then
            ``config.features`` names the list column). No labels are used; features are standardised with
            their mean/std (saved in the config).
        progress: called with every :class:`~geoenc.training.engine.ProgressEvent`.
        out_dir: write the head-less model folder here (atomically).
        resume: a folder (or :class:`Checkpoint`) of an interrupted run to continue exactly.
        inputs: the input files (a folder holding one is never overwritten).

    Runs on the shared engine: seeded (initialisation, batches, random negatives), resumable after
    Ctrl-C/SIGTERM, stopped with a one-line error if the loss diverges, early stopping on a held-out
    ``val_fraction`` when given.
    """
    cfg = config.validate()
    engine = Engine(engine_config(cfg), progress=progress)
    if out_dir is not None and engine.rank == 0:
        from geoenc.io.atomic import check_output_dir

        check_output_dir(out_dir, overwrite, inputs=inputs or (), resume=resume is not None)
    ck = Checkpoint.read(resume) if isinstance(resume, (str, os.PathLike)) else resume
    pts = as_pretrain_data(data, cfg.features)
    device = engine.device
    features = pts.features
    assert features is not None  # as_pretrain_data refuses data without features
    mean, std = feature_stats(features)
    feats_all = torch.as_tensor(((features - mean) / std).astype(np.float32), device=device)
    with engine.init_stream():
        location = build_location_encoder(
            cfg.method, cfg.method_params, cfg.net, cfg.net_params, fit_on=pts.lonlat, seed=cfg.seed
        )
        model = DualEncoder(
            location,
            int(feats_all.shape[1]),
            cfg.objective,
            projection_hidden=cfg.projection_hidden,
            clip_temperature=cfg.temperatures["clip"],
        ).to(device)
    position = location.position
    lonlat = torch.as_tensor(pts.lonlat, dtype=torch.float32, device=device)
    learnable = any(p.requires_grad for p in position.parameters())
    # a fixed position encoding is computed once, unless it would not fit comfortably in memory
    cache = not learnable and len(pts) * int(position.embedding_dim) * 4 <= CACHE_LIMIT_BYTES
    x_all = encode_cached(position, torch.as_tensor(pts.lonlat, device=device)) if cache else lonlat
    val = None
    if cfg.val_fraction > 0:
        tr_idx, va_idx = split_validation(len(pts), cfg.val_fraction, engine.seeds.numpy("validation"))
        if len(va_idx) < 2 or len(tr_idx) < 2:
            raise InputError(f"--val-fraction {cfg.val_fraction} leaves fewer than 2 points on one side of the split")
        t_tr, t_va = torch.as_tensor(tr_idx, device=device), torch.as_tensor(va_idx, device=device)
        x, feats, val = x_all[t_tr], feats_all[t_tr], (x_all[t_va], feats_all[t_va])
    else:
        x, feats = x_all, feats_all
    extent = None
    if cfg.random_extent == "data":
        extent = (
            float(pts.lonlat[:, 0].min()),
            float(pts.lonlat[:, 0].max()),
            float(pts.lonlat[:, 1].min()),
            float(pts.lonlat[:, 1].max()),
        )
    task = PretrainTask(model, cfg, x, feats, cache, extent, val)
    spec = ModelSpec(
        kind=KIND,  # task "embedding": no prediction head; `geoenc predict` refuses it, `encode --model` uses it
        encoder=Component(position.name or cfg.method, position.params),
        net=Component(location.net.name, location.net.params),
        task="embedding",
        n_outputs=0,
        embedding_dim=location.embedding_dim,
        seed=cfg.seed,
        n_train=task.n_train,
        n_val=0 if val is None else int(val[0].shape[0]),
        extra={
            "pretrain": {
                "objective": cfg.objective,
                "feature_column": cfg.features,
                "feature_dim": int(feats_all.shape[1]),
                "feature_stats": {"mean": mean.tolist(), "std": std.tolist()},
                "temperatures": dict(cfg.temperatures),
                "weights": dict(cfg.weights),
                "random_negatives_per_point": cfg.random_negatives,
                "random_extent": list(extent) if extent else "sphere",
                "projection_hidden": cfg.projection_hidden,
                "extras_file": EXTRAS_FILE,
            }
        },
    )

    def describe(checkpoint: Checkpoint | None) -> Checkpoint | None:
        if checkpoint is not None:
            checkpoint.meta.update(model_config=spec.to_dict(), pretrain_config=cfg.to_dict())
        return checkpoint

    try:
        fit = engine.fit(task, resume=ck)
    except DivergedError as e:
        raise DivergedError(f"{cfg.objective} pre-training diverged: {e}; or raise the temperatures") from None
    model.eval()
    first = fit.history[0]["train_loss"] if fit.history else None
    last = fit.history[-1]["train_loss"] if fit.history else None
    metrics = {
        "objective": cfg.objective,
        "epochs_run": len(fit.history),
        "best_epoch": fit.best_epoch,
        "interrupted": fit.interrupted,
        "train_seconds": round(fit.seconds, 3),
        "final_loss": last,
        "first_loss": first,
    }
    result = PretrainResult(
        model=model,
        spec=spec,
        history=fit.history,
        pretrain_config=cfg,
        metrics=metrics,
        interrupted=fit.interrupted,
        checkpoint=describe(fit.checkpoint),
        inputs=list(inputs or []),
    )
    if out_dir is not None and engine.rank == 0:
        result.out_dir = result.save(out_dir, overwrite=overwrite, resume=resume is not None)
    return result


def encoder_model(location: LocationEncoder) -> LocationModel:
    """The location encoder as a head-less ``LocationModel`` (task ``embedding``): what ``load_model`` rebuilds."""
    return LocationModel(location, "embedding", 0)


def save_pretrained(
    path: str | os.PathLike[str], result: PretrainResult, *, overwrite: bool = False, resume: bool = False
) -> Path:
    """Write the model folder atomically: location encoder weights, config, log, extras (and a checkpoint)."""
    from safetensors.torch import save

    extras = result.model.extras_state()
    files = {EXTRAS_FILE: save(extras, metadata={"producer": "geoenc pretrain"})} if extras else {}
    if result.checkpoint is not None:
        files.update(result.checkpoint.files())
    return write_model_dir(
        path,
        encoder_model(result.model.location),
        result.spec,
        metrics=result.metrics,
        log_rows=result.history,
        resolved_yaml=result.pretrain_config.to_yaml(),
        extra_files=files or None,
        overwrite=overwrite,
        inputs=result.inputs,
        resume=resume,
    )


__all__ = [
    "EXTRAS_FILE",
    "KIND",
    "PretrainResult",
    "PretrainTask",
    "as_pretrain_data",
    "batch_loss",
    "encoder_model",
    "feature_stats",
    "pretrain",
    "save_pretrained",
]
