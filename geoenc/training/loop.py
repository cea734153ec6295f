"""The training loop: AdamW, lr schedule, early stopping, seeded and deterministic, resumable.

Data live as tensors on the training device and batches are drawn with ``randperm``; the position
encoding runs in torch on that device. When the encoder has no trainable parameters its output is
computed once per run (``cache_encoding``) and batches slice it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from geoenc.device import resolve_device
from geoenc.errors import InputError, ModelError, ParameterError
from geoenc.metrics.classification import classification_metrics
from geoenc.metrics.regression import regression_metrics
from geoenc.models.checkpoint import LoadedModel, prepare_output_dir, read_config, state_tensors, write_model_dir
from geoenc.models.location import LocationEncoder, LocationModel
from geoenc.training import data as D
from geoenc.training.config import DEFAULT_LOSS, LOSSES, TrainConfig
from geoenc.training.losses import an_full_loss, random_sphere_lonlat, supervised_loss

#: encodings larger than this (bytes) are computed per batch instead of cached
CACHE_LIMIT_BYTES = 2 << 30
CHECKPOINT_DIR = "checkpoint"


@dataclass
class ProgressEvent:
    """What the loop reports: ``kind`` is ``"start"``, ``"batch"`` or ``"epoch"``."""

    kind: str
    epoch: int
    epochs: int
    step: int = 0
    steps: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainResult:
    """The outcome of :func:`train`: the model, its config (as saved), metrics and the per-epoch log."""

    model: LocationModel
    config: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    train_config: TrainConfig
    best_epoch: int
    interrupted: bool = False
    out_dir: Path | None = None
    resume_state: dict[str, Any] | None = None

    @property
    def loaded(self) -> LoadedModel:
        """The trained model with the same ``embed``/``predict`` API as :func:`geoenc.models.load_model`."""
        return LoadedModel(self.model, self.config, self.out_dir)

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        extra = _checkpoint_files(self.resume_state) if self.resume_state else None
        return write_model_dir(
            path,
            self.model,
            self.config,
            metrics=self.metrics,
            log_rows=self.history,
            resolved_yaml=self.train_config.to_yaml(),
            extra_files=extra,
            overwrite=overwrite,
        )


# -- helpers ---------------------------------------------------------------------------------------
def _dist_info() -> tuple[int, int]:
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 0, 1


def _monitor(task: str, metrics: dict[str, float]) -> float:
    """Higher is better: top-1 for classification, −RMSE for regression, MRR for multi-label."""
    if task == "regression":
        return -metrics["rmse"]
    if task == "multilabel":
        return metrics["mrr"]
    return metrics["top1"]


def _checkpoint_files(state: dict[str, Any]) -> dict[str, bytes]:
    from safetensors.torch import save

    tensors = dict(state["tensors"])
    return {
        f"{CHECKPOINT_DIR}/state.safetensors": save(tensors),
        f"{CHECKPOINT_DIR}/state.json": json.dumps(state["json"], indent=2).encode(),
    }


def _optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, Tensor):
                tensors[f"optimizer.{pid}.{k}"] = v.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith("optimizer."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = v
    for pid, sc in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(sc)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def read_resume_state(path: str | os.PathLike) -> tuple[dict[str, Tensor], dict[str, Any]]:
    from safetensors.torch import load_file

    d = Path(path) / CHECKPOINT_DIR
    if not (d / "state.json").is_file() or not (d / "state.safetensors").is_file():
        raise ModelError(
            f"{path} has no resumable checkpoint ({CHECKPOINT_DIR}/): it was not interrupted, "
            "or was saved without one; train again without --resume"
        )
    try:
        return load_file(str(d / "state.safetensors")), json.loads((d / "state.json").read_text())
    except Exception as e:  # noqa: BLE001 - any unreadable checkpoint is the same user problem
        raise ModelError(f"{path}: the resumable checkpoint cannot be read ({e})") from None


def _as_point_data(data: Any, cfg: TrainConfig, *, require_label: bool = True) -> D.PointData:
    if isinstance(data, D.PointData):
        return data
    if hasattr(data, "attrs") and hasattr(data, "lon"):
        if cfg.label is None:
            raise ParameterError("pass the label column (TrainConfig.label / --label)")
        return D.from_points(data, cfg.label, cfg.features, require_label=require_label)
    raise ParameterError(f"training data must be PointData or geoenc.io.Points, not {type(data).__name__}")


def _evaluate(
    model: LocationModel,
    task: str,
    loss: str,
    x: Tensor,
    f: Tensor | None,
    y: np.ndarray,
    encoded: bool,
    stats: dict[str, float] | None = None,
    batch: int = 16384,
) -> dict[str, float]:
    """Metrics on one split; regression targets and outputs are back in the label's units."""
    was = model.training
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            fb = f[i : i + batch] if f is not None else None
            raw = model.forward_encoded(x[i : i + batch], fb) if encoded else model(x[i : i + batch], fb)
            outs.append(model.scores(raw.float(), loss).cpu())
    model.train(was)
    out = torch.cat(outs).numpy()
    if task == "regression":
        mean, std = (stats["mean"], stats["std"]) if stats else (0.0, 1.0)
        return regression_metrics(out * std + mean, np.asarray(y, np.float64) * std + mean)
    return classification_metrics(out, y)


# -- the loop ----------------------------------------------------------------------------------------
def train(
    config: TrainConfig,
    train_data: Any,
    val_data: Any = None,
    *,
    progress: Callable[[ProgressEvent], None] | None = None,
    out_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    resume: str | os.PathLike | None = None,
) -> TrainResult:
    """Train a location model; return (and with ``out_dir``, save) it.

    ``train_data``/``val_data`` are :class:`geoenc.training.data.PointData` or :class:`geoenc.io.Points`
    (then ``config.label`` / ``config.features`` name the columns). Without ``val_data`` and with
    ``config.val_fraction > 0`` a seeded (stratified for classes) split is held out. Early stopping
    watches validation top-1 (classification), MRR (multi-label) or RMSE (regression) and restores the
    best epoch's weights. ``KeyboardInterrupt`` stops training after the current batch; the result has
    ``interrupted=True`` and, with ``out_dir``, a resumable ``checkpoint/`` is written there; pass that
    directory as ``resume`` to continue.
    """
    cfg = config.validate()
    rank, world = _dist_info()
    if out_dir is not None and rank == 0:
        prepare_output_dir(out_dir, overwrite or resume is not None)
    tr = _as_point_data(train_data, cfg)
    if tr.labels is None:
        raise InputError("training data has no labels")
    va = _as_point_data(val_data, cfg) if val_data is not None else None
    if len(tr) == 0:
        raise InputError("the training data has no points")
    if cfg.features and tr.features is None:
        raise InputError(f"feature column {cfg.features!r} missing from the training data")

    # task, loss, labels ---------------------------------------------------------------------------
    task = cfg.task or D.infer_task(tr)
    loss_name = cfg.loss or DEFAULT_LOSS[task]
    if loss_name not in LOSSES[task]:
        raise ParameterError(f"loss {loss_name!r} does not fit task {task!r}: use one of {', '.join(LOSSES[task])}")
    classes = D.fit_classes(tr, task) if task != "regression" else None
    stats = D.target_stats(tr) if task == "regression" else None
    y_all = D.encode_labels(tr, task, classes, stats)
    if va is None and cfg.val_fraction > 0:
        strata = y_all if task == "classification" else None
        tr_idx, va_idx = D.split_validation(len(tr), cfg.val_fraction, cfg.seed, strata)
        va, tr = tr.subset(va_idx), tr.subset(tr_idx)
        y_val, y_tr = y_all[va_idx], y_all[tr_idx]
    else:
        y_tr = y_all
        y_val = D.encode_labels(va, task, classes, stats) if va is not None and len(va) else None
    if va is not None and len(va) == 0:
        va = None
    if cfg.train_fraction < 1:
        from geoenc.pretrain.finetune import stratified_fraction

        keep = stratified_fraction(
            y_tr if task == "classification" else np.zeros(len(tr)), cfg.train_fraction, cfg.seed
        )
        tr, y_tr = tr.subset(keep), y_tr[keep]
    n_outputs = 1 if task == "regression" else len(classes)

    # model ------------------------------------------------------------------------------------------
    from geoenc.encoders import get_encoder
    from geoenc.nets import get_net

    device = resolve_device(cfg.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)) % torch.cuda.device_count())
    torch.manual_seed(cfg.seed)
    position = get_encoder(cfg.method, **cfg.method_params)
    lonlat_tr = torch.as_tensor(tr.lonlat, dtype=torch.float32, device=device)
    if getattr(position, "needs_fit", False):
        position.fit(torch.as_tensor(tr.lonlat, dtype=torch.float64), seed=cfg.seed)
    net_name = cfg.net or getattr(position, "default_net", "ffn")
    torch.manual_seed(cfg.seed)
    body = get_net(net_name, int(position.embedding_dim), **cfg.net_params)
    feat_dim = int(tr.features.shape[1]) if tr.features is not None else None
    model = LocationModel(
        LocationEncoder(position, body), task, n_outputs, feature_dim=feat_dim, feature_hidden=cfg.feature_hidden
    ).to(device)
    if cfg.init:
        from geoenc.pretrain.finetune import apply_pretrained

        apply_pretrained(model, cfg.init, freeze_encoder=cfg.freeze_encoder)

    model_config = {
        "encoder": {"name": position.name or cfg.method, "params": position.params},
        "net": {"name": body.name, "params": body.params},
        "task": task,
        "loss": loss_name,
        "n_outputs": n_outputs,
        "classes": classes,
        "label": cfg.label or tr.label_name,
        "target_stats": stats,
        "features": ({"column": cfg.features, "dim": feat_dim, "hidden": cfg.feature_hidden} if feat_dim else None),
        "embedding_dim": model.embedding_dim,
        "seed": cfg.seed,
        "n_train": len(tr),
        "n_val": len(va) if va is not None else 0,
        "init": str(cfg.init) if cfg.init else None,
        # where an imported pretrained encoder came from (geoenc pretrained import): model and weights sha256
        "init_source": read_config(cfg.init).get("pretrained") if cfg.init else None,
        "freeze_encoder": bool(cfg.freeze_encoder),
        "train_fraction": float(cfg.train_fraction),
    }

    # data on the device ---------------------------------------------------------------------------
    learnable_pe = any(p.requires_grad for p in position.parameters())
    pe_bytes = len(tr) * int(position.embedding_dim) * 4
    cache = cfg.cache_encoding and not learnable_pe and pe_bytes <= CACHE_LIMIT_BYTES

    def encode_all(x: Tensor) -> Tensor:
        with torch.no_grad():
            return torch.cat([position(x[i : i + 65536]) for i in range(0, x.shape[0], 65536)]).float()

    t_encode = time.perf_counter()
    x_tr = encode_all(lonlat_tr) if cache else lonlat_tr
    encode_seconds = time.perf_counter() - t_encode
    f_tr = torch.as_tensor(tr.features, device=device) if tr.features is not None else None
    yt = torch.as_tensor(y_tr, device=device)
    if va is not None:
        lonlat_va = torch.as_tensor(va.lonlat, dtype=torch.float32, device=device)
        x_va = encode_all(lonlat_va) if cache else lonlat_va
        f_va = torch.as_tensor(va.features, device=device) if va.features is not None else None

    # optimisation ---------------------------------------------------------------------------------
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    if cfg.lr_schedule == "exp":
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.lr_decay)
    elif cfg.lr_schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    amp_dtype = None
    if device.type == "cuda" and cfg.amp != "off":
        amp_dtype = torch.float16 if cfg.amp == "fp16" else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    gen = torch.Generator().manual_seed(cfg.seed)
    neg_gen = torch.Generator().manual_seed(cfg.seed + 1)

    history: list[dict[str, Any]] = []
    start_epoch = 0
    best_score = -math.inf
    best_epoch = -1
    best_state: dict[str, Tensor] | None = None
    bad_epochs = 0
    if resume is not None:
        tensors, meta = read_resume_state(resume)
        if (
            meta.get("model_config", {}).get("classes") != classes
            or meta.get("model_config", {}).get("encoder") != model_config["encoder"]
        ):
            raise ModelError(
                f"{resume}: the checkpoint was trained on other classes or another encoder; "
                "resume with the same data and settings"
            )
        model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")})
        _load_optimizer(opt, tensors, meta["optimizer"])
        sched.load_state_dict(meta["scheduler"])
        gen.set_state(tensors["rng.batches"])
        neg_gen.set_state(tensors["rng.negatives"])
        torch.set_rng_state(tensors["rng.torch"])
        start_epoch, history = int(meta["epoch"]), list(meta["history"])
        best_score, best_epoch, bad_epochs = float(meta["best_score"]), int(meta["best_epoch"]), int(meta["bad_epochs"])
        best = {k[len("best.") :]: v for k, v in tensors.items() if k.startswith("best.")}
        best_state = best or None

    ddp_model: nn.Module = model
    own_group = False
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            own_group = True
        ddp_model = nn.parallel.DistributedDataParallel(model)

    n = len(tr)
    if world > 1 and n < world:
        raise InputError(f"{n} training points cannot be shared among {world} processes")
    bs = cfg.batch_size
    steps = max(1, math.ceil(n / (bs * world)))
    emit = progress if (progress is not None and rank == 0) else (lambda e: None)
    emit(ProgressEvent("start", start_epoch, cfg.epochs, 0, steps))
    interrupted = False
    t0 = time.perf_counter()
    seen = 0
    epoch = start_epoch
    model.train()
    try:
        for epoch in range(start_epoch, cfg.epochs):
            te = time.perf_counter()
            perm = torch.randperm(n, generator=gen)
            if world > 1:  # every rank takes the same number of batches, or DDP would wait forever
                perm = perm[: (n // world) * world][rank::world]
            perm = perm.to(device)
            total, count = 0.0, 0
            for step, i in enumerate(range(0, perm.numel(), bs)):
                idx = perm[i : i + bs]
                xb, yb = x_tr[idx], yt[idx]
                fb = f_tr[idx] if f_tr is not None else None
                ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()
                with ctx:
                    if cache:
                        out = ddp_model(xb, fb, encoded=True)
                    else:
                        out = ddp_model(xb, fb)
                    if loss_name == "an_full":
                        rand = random_sphere_lonlat(idx.numel(), neg_gen, device)
                        loss = an_full_loss(out.float(), yb, model(rand).float())
                    else:
                        loss = supervised_loss(loss_name, out, yb)
                opt.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                total += float(loss.detach()) * idx.numel()
                count += idx.numel()
                emit(ProgressEvent("batch", epoch, cfg.epochs, step + 1, steps))
            seen += count
            row: dict[str, Any] = {
                "epoch": epoch + 1,
                "train_loss": total / max(count, 1),
                "lr": opt.param_groups[0]["lr"],
            }
            sched.step()
            if va is not None:
                vm = _evaluate(model, task, loss_name, x_va, f_va, y_val, cache, stats)
                row.update({f"val_{k}": v for k, v in vm.items() if k != "n"})
                score = _monitor(task, vm)
                if score > best_score:
                    best_score, best_epoch, bad_epochs = score, epoch + 1, 0
                    best_state = state_tensors(model)
                else:
                    bad_epochs += 1
            else:
                best_epoch = epoch + 1
            row["seconds"] = round(time.perf_counter() - te, 4)
            history.append(row)
            emit(ProgressEvent("epoch", epoch + 1, cfg.epochs, steps, steps, dict(row)))
            if va is not None and bad_epochs > cfg.patience:
                break
    except KeyboardInterrupt:
        interrupted = True
    train_seconds = time.perf_counter() - t0 + encode_seconds  # the one-off encoding counts as training time

    # resumable state (before restoring the best weights) -----------------------------------------
    resume_state = None
    if interrupted:
        done = len(history)
        tensors = {f"model.{k}": v for k, v in state_tensors(model).items()}
        if best_state is not None:
            tensors.update({f"best.{k}": v for k, v in best_state.items()})
        opt_t, opt_meta = _optimizer_tensors(opt)
        tensors.update(opt_t)
        tensors["rng.batches"] = gen.get_state()
        tensors["rng.negatives"] = neg_gen.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        resume_state = {
            "tensors": tensors,
            "json": {
                "epoch": done,
                "history": history,
                "best_score": best_score,
                "best_epoch": best_epoch,
                "bad_epochs": bad_epochs,
                "optimizer": opt_meta,
                "scheduler": sched.state_dict(),
                "model_config": json.loads(json.dumps(model_config)),
                "train_config": cfg.to_dict(),
            },
        }
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()

    metrics: dict[str, Any] = {
        "task": task,
        "loss": loss_name,
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "interrupted": interrupted,
        "train_seconds": round(train_seconds, 3),
        "samples_per_second": round(seen * world / train_seconds, 1) if train_seconds > 0 else None,
    }
    sub = (
        np.arange(len(tr))
        if len(tr) <= 50000
        else np.random.default_rng(cfg.seed).choice(len(tr), 50000, replace=False)
    )
    sub_t = torch.as_tensor(sub, device=device)
    metrics["train"] = _evaluate(
        model, task, loss_name, x_tr[sub_t], f_tr[sub_t] if f_tr is not None else None, y_tr[sub], cache, stats
    )
    if va is not None:
        metrics["val"] = _evaluate(model, task, loss_name, x_va, f_va, y_val, cache, stats)

    result = TrainResult(
        model=model,
        config=model_config,
        metrics=metrics,
        history=history,
        train_config=cfg,
        best_epoch=best_epoch,
        interrupted=interrupted,
        resume_state=resume_state,
    )
    if out_dir is not None and rank == 0:
        result.out_dir = result.save(out_dir, overwrite=overwrite or resume is not None)
    if world > 1:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()
            if own_group:
                dist.destroy_process_group()
    return result
