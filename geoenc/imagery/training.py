"""Training the chip autoencoder on a raster: sampling chips, per-band normalisation, a seeded loop, metrics.

Chips come from pixels drawn uniformly over the raster's valid pixels (on a geographic raster, rows are
drawn with weight cos(latitude), so uniformly over area rather than over pixels) and kept only when every
pixel of the chip is valid — or from given points (``points=``), where missing pixels are masked out of
the loss. A seeded share (``val_fraction``) is held out; ``metrics.json`` reports the held-out
reconstruction MSE beside the baseline of predicting the training set's per-band mean image, in
standardised units (per band, averaged over bands) and in the raster's units, and beside an oracle that
predicts each chip by its own mean colour (what a latent holding only the chip's average would reach).

Same arguments → same chips, same split, same weights (everything draws from ``seed`` through the shared
engine's named streams; the global RNG state is left untouched).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from geoenc.errors import InputError, ParameterError
from geoenc.imagery.autoencoder import ARCHITECTURE, KIND, ConvAutoencoder
from geoenc.imagery.raster import ChipReader, valid_fraction
from geoenc.params import check_number
from geoenc.training.engine import Checkpoint, Engine, EngineConfig, ProgressEvent, Seeds, Task


@dataclass
class AutoencoderConfig:
    size: int = 32
    latent: int = 64
    width: int = 16
    samples: int = 10_000
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    val_fraction: float = 0.1
    bands: list[int] | None = None
    #: stop after this many epochs without a lower held-out MSE (None: train every epoch)
    patience: int | None = None

    def check(self) -> None:
        for name, hi in (
            ("size", 4096),
            ("latent", 65_536),
            ("width", 4096),
            ("samples", 100_000_000),
            ("epochs", 1_000_000),
            ("batch_size", 1 << 20),
            ("seed", 2**63 - 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not (0 if name == "seed" else 1) <= v <= hi:
                raise ParameterError(
                    f"--{name.replace('_', '-')} must be an integer in "
                    f"[{0 if name == 'seed' else 1}, {hi:,}], got {v!r}"
                )
        check_number(self, "lr", lo=0.0, lo_open=True, hi=1e3)
        check_number(self, "weight_decay", lo=0.0, hi=1e3)
        check_number(self, "val_fraction", lo=0.0, lo_open=True, hi=1.0, hi_open=True)


def sample_pixels(reader: ChipReader, n: int, seed: int, max_rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """``n`` chip centres whose chips are fully valid, drawn uniformly over area (seeded)."""
    rng = np.random.default_rng(seed)
    h, w, s = reader.height, reader.width, reader.size
    lo, hi = (0, w) if reader.wrap else (s // 2, w - (s - s // 2) + 1)
    rows_ok = np.arange(s // 2, h - (s - s // 2) + 1)
    weights = np.ones(rows_ok.size)
    if reader.crs.is_geographic:
        t = reader.transform
        lat = t.f + t.e * (rows_ok + 0.5)
        weights = np.clip(np.cos(np.deg2rad(np.clip(lat, -90, 90))), 1e-6, None)
    weights /= weights.sum()
    rows_out, cols_out, tried = [], [], 0
    have = 0
    for _ in range(max_rounds):
        k = max(256, 2 * (n - have))
        rows = rng.choice(rows_ok, size=k, p=weights)
        cols = rng.integers(lo, hi, size=k)
        ok = valid_fraction(reader.chips(rows, cols)) >= 1.0
        tried += k
        rows_out.append(rows[ok])
        cols_out.append(cols[ok])
        have += int(ok.sum())
        if have >= n:
            break
    rows, cols = np.concatenate(rows_out)[:n], np.concatenate(cols_out)[:n]
    if rows.size < 2:
        raise InputError(
            f"raster {reader.path!r}: found {rows.size} fully valid chips of {s}×{s} pixels in {tried:,} "
            "tries: lower --size, or train at --points inside the valid area"
        )
    return rows, cols


def _band_stats(chips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b = chips.shape[1]
    per_band = chips.transpose(1, 0, 2, 3).reshape(b, -1).astype(np.float64)
    mean = np.nanmean(per_band, axis=1)
    std = np.nanstd(per_band, axis=1)
    std = np.where(np.isfinite(std) & (std > 1e-8), std, 1.0)
    return np.nan_to_num(mean).astype(np.float32), std.astype(np.float32)


@torch.no_grad()
def _evaluate(
    model: ConvAutoencoder, raw: torch.Tensor, mean_image: torch.Tensor, device: torch.device, batch: int = 512
) -> dict[str, Any]:
    std = model.std.to(device)
    se = torch.zeros(model.bands, dtype=torch.float64)
    se_base = torch.zeros(model.bands, dtype=torch.float64)
    se_flat = torch.zeros(model.bands, dtype=torch.float64)
    cnt = torch.zeros(model.bands, dtype=torch.float64)
    for i in range(0, raw.shape[0], batch):
        x, m = model.normalise(raw[i : i + batch].to(device))
        _, rec = model(x)
        se += (((rec - x) ** 2) * m).sum((0, 2, 3)).double().cpu()
        se_base += (((mean_image.to(device) - x) ** 2) * m).sum((0, 2, 3)).double().cpu()
        flat = (x * m).sum((2, 3), keepdim=True) / m.sum((2, 3), keepdim=True).clamp(min=1)
        se_flat += (((flat - x) ** 2) * m).sum((0, 2, 3)).double().cpu()
        cnt += m.sum((0, 2, 3)).double().cpu()
    mse_b = se / cnt.clamp(min=1)
    base_b = se_base / cnt.clamp(min=1)
    flat_b = se_flat / cnt.clamp(min=1)
    var = std.double().cpu() ** 2
    return {
        "val_mse": float(mse_b.mean()),
        "baseline_mean_image_mse": float(base_b.mean()),
        "val_mse_raw": float((mse_b * var).mean()),
        "baseline_mean_image_mse_raw": float((base_b * var).mean()),
        "oracle_chip_mean_colour_mse": float(flat_b.mean()),
        "val_mse_per_band": [float(v) for v in mse_b],
        "baseline_mse_per_band": [float(v) for v in base_b],
    }


class AutoencoderTask(Task):
    """Reconstruct standardised chips; the loss counts valid pixels only; random horizontal flips."""

    model: ConvAutoencoder

    def __init__(
        self,
        model: ConvAutoencoder,
        train_raw: torch.Tensor,
        val_raw: torch.Tensor,
        mean_image: torch.Tensor,
        device: torch.device,
    ) -> None:
        self.model, self.train_raw, self.val_raw, self.mean_image, self.device = (
            model,
            train_raw,
            val_raw,
            mean_image,
            device,
        )
        self.n_train = int(train_raw.shape[0])

    def step(
        self, module: torch.nn.Module, idx: torch.Tensor, seeds: Seeds
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        batch = self.train_raw[idx.cpu()].to(self.device)
        if torch.rand((), generator=seeds.generator("augment")) < 0.5:  # land cover does not care about orientation
            batch = batch.flip(-1)
        x, m = self.model.normalise(batch)
        _, rec = module(x)
        return (((rec - x) ** 2) * m).sum() / m.sum().clamp(min=1), {}

    def evaluate(self) -> dict[str, float]:
        return {"mse": _evaluate(self.model, self.val_raw, self.mean_image, self.device)["val_mse"]}

    def score(self, metrics: dict[str, float]) -> float | None:
        return -metrics["mse"]


def train_autoencoder(
    raster: str | Path,
    out_dir: str | Path,
    config: AutoencoderConfig | None = None,
    *,
    points: Any = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[ProgressEvent], None] | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Train a :class:`ConvAutoencoder` on chips of ``raster`` and write its model folder; returns metrics.

    Runs on the shared engine (:mod:`geoenc.training.engine`): seeded, Adam with a one-cycle schedule,
    early stopping on the held-out MSE when ``config.patience`` is set, stopped with a one-line error if
    the loss diverges, and resumable after Ctrl-C/SIGTERM (``resume=True`` continues the run saved in
    ``out_dir``; the weights are the same as an uninterrupted run's).
    """
    from geoenc.io.atomic import check_output_dir
    from geoenc.models.checkpoint import write_model_dir

    cfg = config or AutoencoderConfig()
    cfg.check()
    inputs = [str(raster)] + ([str(points)] if isinstance(points, (str, Path)) else [])
    check_output_dir(out_dir, overwrite, inputs=inputs, resume=resume)
    ck = Checkpoint.read(out_dir) if resume else None
    engine = Engine(
        EngineConfig(
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
            optimizer="adam",
            schedule="onecycle",
            patience=cfg.patience,
            seed=cfg.seed,
            device=device,
        ),
        progress=progress,
    )
    dev = engine.device
    t0 = time.perf_counter()
    with ChipReader(raster, cfg.size, cfg.bands) as reader:
        if points is None:
            rows, cols = sample_pixels(reader, cfg.samples, engine.seeds.seed_for("chips"))
            chips = reader.chips(rows, cols)
            source = {"sampling": "uniform over area, fully valid chips", "samples": int(rows.size)}
        else:
            from geoenc.imagery.patches import extract_patches
            from geoenc.io import read_points

            pts = points if hasattr(points, "lon") else read_points(points)
            p = extract_patches(reader, pts.lon, pts.lat, skip_outside=True)
            keep = p.valid_fraction > 0
            chips = p.chips[keep]
            source = {
                "sampling": "chips at the given points",
                "points": len(pts),
                "samples": int(keep.sum()),
                "dropped_outside_or_empty": int(len(pts) - keep.sum()),
            }
            if chips.shape[0] < 2:
                raise InputError(
                    f"only {chips.shape[0]} of the {len(pts):,} points have pixels in raster "
                    f"{reader.path!r}: give points inside it"
                )
        info = reader.raster_info()
        bands, band_names = reader.bands, reader.band_names
    n = chips.shape[0]
    order = engine.seeds.numpy("validation").permutation(n)
    n_val = min(n - 1, max(1, round(cfg.val_fraction * n)))
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    mean, std = _band_stats(chips[train_idx])
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise InputError(f"raster {str(raster)!r}: the training chips hold no finite pixel values in some band")
    with engine.init_stream():
        model = ConvAutoencoder(len(bands), cfg.size, cfg.latent, cfg.width)
    model.set_normalisation(torch.from_numpy(mean), torch.from_numpy(std))
    model.to(dev)
    raw = torch.from_numpy(chips)
    train_raw, val_raw = raw[train_idx], raw[val_idx]
    with torch.no_grad():
        xs, ms = model.normalise(train_raw.to(dev))
        mean_image = (xs * ms).sum(0) / ms.sum(0).clamp(min=1)
    fit = engine.fit(AutoencoderTask(model, train_raw, val_raw, mean_image, dev), resume=ck)
    metrics = {
        **_evaluate(model, val_raw, mean_image, dev),
        "train_chips": int(train_idx.size),
        "val_chips": int(val_idx.size),
        "epochs": len(fit.history),
        "best_epoch": fit.best_epoch,
        "interrupted": fit.interrupted,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    base = metrics["baseline_mean_image_mse"]
    # a raster without variation: the mean image is already perfect, and there is no skill to measure
    metrics["skill_vs_mean_image"] = 1.0 - metrics["val_mse"] / base if base > 0 else float("nan")
    model_cfg = {
        "kind": KIND,
        "architecture": ARCHITECTURE,
        "model": model.config(),
        "bands": bands,
        "band_names": band_names,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "training": {**asdict(cfg), "bands": bands, **source, "device": str(dev)},
        "source_raster": info,
    }
    files = None
    if fit.checkpoint is not None:
        fit.checkpoint.meta["model_config"] = model_cfg
        files = fit.checkpoint.files()
    log = [{**r, "train_mse": r.get("train_loss"), "val_mse": r.get("val_mse")} for r in fit.history]
    write_model_dir(
        out_dir,
        model,
        model_cfg,
        metrics=metrics,
        log_rows=log,
        extra_files=files,
        overwrite=overwrite,
        inputs=inputs,
        resume=resume,
    )
    return metrics
