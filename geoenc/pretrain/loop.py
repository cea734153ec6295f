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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from geoenc.device import resolve_device
from geoenc.errors import InputError, ParameterError
from geoenc.models.checkpoint import prepare_output_dir, write_model_dir
from geoenc.models.location import LocationEncoder, LocationModel
from geoenc.pretrain import objectives as O
from geoenc.pretrain.config import PretrainConfig
from geoenc.pretrain.model import DualEncoder
from geoenc.training.data import PointData, from_points
from geoenc.training.loop import CACHE_LIMIT_BYTES

#: the pretrained directory's extra weights (feature projection, mse head, CLIP logit scale)
EXTRAS_FILE = "pretrain/extras.safetensors"
#: ``config.json`` → ``kind`` of a pretrained-encoder directory
KIND = "pretrained_encoder"


@dataclass
class PretrainEvent:
    """What the loop reports: ``kind`` is ``"start"``, ``"batch"`` or ``"epoch"``."""

    kind: str
    epoch: int
    epochs: int
    step: int = 0
    steps: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class PretrainResult:
    """The pretrained dual encoder, the config saved with it, and the per-epoch log."""

    model: DualEncoder
    config: dict[str, Any]
    history: list[dict[str, Any]]
    pretrain_config: PretrainConfig
    metrics: dict[str, Any]
    out_dir: Path | None = None

    @property
    def location(self) -> LocationEncoder:
        return self.model.location

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        return save_pretrained(
            path, self.model, self.config, self.history, self.pretrain_config, self.metrics, overwrite=overwrite
        )


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


def build_location_encoder(cfg: PretrainConfig, lonlat: np.ndarray) -> LocationEncoder:
    """The position encoder (fitted on ``lonlat`` when it needs it) followed by its net, seeded."""
    from geoenc.encoders import get_encoder
    from geoenc.nets import get_net

    torch.manual_seed(cfg.seed)
    position = get_encoder(cfg.method, **cfg.method_params)
    if getattr(position, "needs_fit", False):
        position.fit(torch.as_tensor(lonlat, dtype=torch.float64), seed=cfg.seed)
    torch.manual_seed(cfg.seed)
    net = get_net(cfg.net or getattr(position, "default_net", "ffn"), int(position.embedding_dim), **cfg.net_params)
    return LocationEncoder(position, net)


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
        return O.mse_loss(model.head(loc), feats), {}
    loc_n, feat_n = O.normalize(loc), O.normalize(model.projection(feats))
    if cfg.objective == "mc":
        return O.mc_loss(loc_n, feat_n, t["b"]), {}
    if cfg.objective == "clip":
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


def pretrain(
    config: PretrainConfig,
    data: Any,
    *,
    progress: Callable[[PretrainEvent], None] | None = None,
    out_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> PretrainResult:
    """Pre-train a location encoder against the features of ``data``; return (and with ``out_dir``, save) it.

    ``data`` is :class:`geoenc.training.PointData` with ``features`` or :class:`geoenc.io.Points` (then
    ``config.features`` names the list column). No labels are used. Features are standardised with their
    mean/std (saved in the config). The run is seeded: initialisation, batches and random negatives.
    """
    cfg = config.validate()
    if out_dir is not None:
        prepare_output_dir(out_dir, overwrite)
    pts = as_pretrain_data(data, cfg.features)
    device = resolve_device(cfg.device)

    mean, std = feature_stats(pts.features)
    feats = torch.as_tensor(((pts.features - mean) / std).astype(np.float32), device=device)
    location = build_location_encoder(cfg, pts.lonlat)
    torch.manual_seed(cfg.seed + 7)
    model = DualEncoder(
        location,
        int(feats.shape[1]),
        cfg.objective,
        projection_hidden=cfg.projection_hidden,
        clip_temperature=cfg.temperatures["clip"],
    ).to(device)
    position = location.position

    lonlat = torch.as_tensor(pts.lonlat, dtype=torch.float32, device=device)
    learnable_pe = any(p.requires_grad for p in position.parameters())
    # a fixed position encoding is computed once, unless it would not fit comfortably in memory
    cache = not learnable_pe and len(pts) * int(position.embedding_dim) * 4 <= CACHE_LIMIT_BYTES
    if cache:
        with torch.no_grad():
            x = torch.cat([position(lonlat[i : i + 65536]) for i in range(0, lonlat.shape[0], 65536)]).float()
    else:
        x = lonlat

    def embed(xb: Tensor) -> Tensor:
        return location.net(xb) if cache else location(xb)

    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    gen = torch.Generator().manual_seed(cfg.seed)
    neg_gen = torch.Generator().manual_seed(cfg.seed + 1)
    n, bs = len(pts), min(cfg.batch_size, len(pts))
    steps = max(1, n // bs)  # drop the last, smaller batch: contrastive losses depend on the batch size
    emit = progress or (lambda e: None)
    emit(PretrainEvent("start", 0, cfg.epochs, 0, steps))
    extent = None
    if cfg.random_extent == "data":
        extent = (
            float(pts.lonlat[:, 0].min()),
            float(pts.lonlat[:, 0].max()),
            float(pts.lonlat[:, 1].min()),
            float(pts.lonlat[:, 1].max()),
        )
    history: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    model.train()
    for epoch in range(cfg.epochs):
        te = time.perf_counter()
        perm = torch.randperm(n, generator=gen).to(device)
        sums: dict[str, float] = {}
        for step in range(steps):
            idx = perm[step * bs : (step + 1) * bs]
            loc = embed(x[idx])
            loss, parts = batch_loss(
                model,
                cfg,
                loc,
                feats[idx],
                lambda idx=idx: embed(x[idx]),
                lambda k: random_locations(k, neg_gen, extent, device),
            )
            if not torch.isfinite(loss):
                raise InputError(
                    f"the {cfg.objective} loss became {float(loss)} at epoch {epoch + 1}: "
                    "lower --lr or raise the temperatures"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums["loss"] = sums.get("loss", 0.0) + float(loss.detach())
            for k, v in parts.items():
                sums[f"loss_{k}"] = sums.get(f"loss_{k}", 0.0) + v
            emit(PretrainEvent("batch", epoch, cfg.epochs, step + 1, steps))
        row: dict[str, Any] = {"epoch": epoch + 1, **{k: v / steps for k, v in sums.items()}}
        if model.logit_scale is not None:
            row["temperature"] = float(torch.exp(-model.logit_scale.detach()))
        row["seconds"] = round(time.perf_counter() - te, 4)
        history.append(row)
        emit(PretrainEvent("epoch", epoch + 1, cfg.epochs, steps, steps, dict(row)))
    seconds = time.perf_counter() - t0
    model.eval()

    model_config = {
        "kind": KIND,  # task "embedding": no prediction head; `geoenc predict` refuses it, `encode --model` uses it
        "encoder": {"name": position.name or cfg.method, "params": position.params},
        "net": {"name": location.net.name, "params": location.net.params},
        "task": "embedding",
        "n_outputs": 0,
        "loss": None,
        "classes": None,
        "label": None,
        "target_stats": None,
        "features": None,
        "embedding_dim": location.embedding_dim,
        "seed": cfg.seed,
        "n_train": n,
        "n_val": 0,
        "pretrain": {
            "objective": cfg.objective,
            "feature_column": cfg.features,
            "feature_dim": int(feats.shape[1]),
            "feature_stats": {"mean": mean.tolist(), "std": std.tolist()},
            "temperatures": dict(cfg.temperatures),
            "weights": dict(cfg.weights),
            "random_negatives_per_point": cfg.random_negatives,
            "random_extent": list(extent) if extent else "sphere",
            "projection_hidden": cfg.projection_hidden,
            "extras_file": EXTRAS_FILE,
        },
    }
    metrics = {
        "objective": cfg.objective,
        "epochs_run": len(history),
        "train_seconds": round(seconds, 3),
        "final_loss": history[-1]["loss"] if history else None,
        "first_loss": history[0]["loss"] if history else None,
    }
    result = PretrainResult(
        model=model.cpu(), config=model_config, history=history, pretrain_config=cfg, metrics=metrics
    )
    if out_dir is not None:
        result.out_dir = result.save(out_dir, overwrite=overwrite)
    return result


def encoder_model(location: LocationEncoder) -> LocationModel:
    """The location encoder as a head-less ``LocationModel`` (task ``embedding``): what ``load_model`` rebuilds."""
    return LocationModel(location, "embedding", 0)


def save_pretrained(
    path: str | os.PathLike,
    model: DualEncoder,
    config: dict[str, Any],
    history: list[dict[str, Any]],
    cfg: PretrainConfig,
    metrics: dict[str, Any],
    *,
    overwrite: bool = False,
) -> Path:
    """Write the model directory atomically: location encoder weights, config, log, extras."""
    from safetensors.torch import save

    extras = model.extras_state()
    extra_files = {EXTRAS_FILE: save(extras, metadata={"producer": "geoenc pretrain"})} if extras else None
    return write_model_dir(
        path,
        encoder_model(model.location),
        config,
        metrics=metrics,
        log_rows=history,
        resolved_yaml=cfg.to_yaml(),
        extra_files=extra_files,
        overwrite=overwrite,
    )


__all__ = [
    "EXTRAS_FILE",
    "KIND",
    "PretrainEvent",
    "PretrainResult",
    "as_pretrain_data",
    "batch_loss",
    "encoder_model",
    "feature_stats",
    "pretrain",
    "save_pretrained",
]
