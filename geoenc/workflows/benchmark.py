"""`geoenc benchmark`: every listed encoder and baseline trained and scored with the same data, budget and seeds.

Each (method, seed) run is one JSON file in ``RESULTS/runs/``, written when the run finishes; a rerun
skips the runs whose file is there, so an interrupted benchmark resumes where it stopped. The table
(``results.csv``, ``results.md``) and the chart are rebuilt from all run files at the end.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geoenc.benchmark.baselines import BASELINES, fit_predict
from geoenc.benchmark.report import write_chart, write_csv, write_markdown
from geoenc.errors import InputError, UsageError
from geoenc.io import CoordOptions
from geoenc.io.atomic import writing
from geoenc.io.points import Points

RUNS = "runs"


@dataclass
class BenchmarkConfig:
    label: str
    methods: list[str]
    seeds: int = 1
    epochs: int = 10
    batch_size: int = 1024
    lr: float = 1e-3
    net: str | None = None
    net_params: dict[str, Any] = field(default_factory=dict)
    task: str | None = None
    baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    radius_km: float | None = None
    threshold: float | None = None
    device: str = "auto"


def resolve_methods(text: str) -> list[str]:
    """``"all"`` → every registered encoder; otherwise a comma list checked against the registry."""
    from geoenc.encoders import encoder_names, get_encoder_class

    if text.strip().lower() == "all":
        return encoder_names()
    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names:
        raise UsageError("--methods needs at least one encoder name, or 'all'")
    return [get_encoder_class(m).name for m in names]


def resolve_baselines(text: str | None) -> list[str]:
    if text is None:
        return list(BASELINES)
    if text.strip().lower() in ("", "none"):
        return []
    names = [b.strip() for b in text.split(",") if b.strip()]
    for b in names:
        if b not in BASELINES:
            raise UsageError(f"unknown baseline {b!r}: choose from {', '.join(BASELINES)} (or none)")
    return names


def _run_file(out: Path, method: str, seed: int) -> Path:
    safe = method.replace("+", "plus").replace("/", "_")
    return out / RUNS / f"{safe}__seed{seed}.json"


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    with writing(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=float))


def _geobias(
    test: Points, per_point: dict[str, np.ndarray], task: str, cfg: BenchmarkConfig, threshold: float
) -> dict[str, Any]:
    """Unmarked and marked SSI (mean over low-performance centres) of one run's test predictions."""
    from geoenc.metrics.ssi import DEFAULT_RADIUS_KM, ssi_scores

    if task == "regression":
        bad = per_point["abs_error"] > threshold
    else:
        bad = per_point["hit@1"] == 0
    if bad.all() or not bad.any():
        return {"unmarked_ssi": float("nan"), "marked_ssi": float("nan"), "n_low": int(bad.sum())}
    res = ssi_scores(test.lon, test.lat, bad, radius_km=cfg.radius_km or DEFAULT_RADIUS_KM)
    s = res.summary()
    return {"unmarked_ssi": s["unmarked_ssi"], "marked_ssi": s["marked_ssi"], "n_low": s["n_low_centres"]}


def _neural_run(
    method: str, seed: int, train_pts: Points, test_pts: Points, cfg: BenchmarkConfig
) -> tuple[dict[str, Any], dict[str, np.ndarray], str]:
    from geoenc.models.predict import predict_points
    from geoenc.training import TrainConfig, train

    tcfg = TrainConfig(
        label=cfg.label,
        method=method,
        net=cfg.net,
        net_params=dict(cfg.net_params),
        task=cfg.task,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        seed=seed,
        device=cfg.device,
        val_fraction=0.1,
        patience=max(3, cfg.epochs // 3),
    )
    t0 = time.perf_counter()
    result = train(tcfg, train_pts)
    seconds = time.perf_counter() - t0
    model = result.loaded
    preds = predict_points(model, test_pts, top=3, label=cfg.label)
    metrics = dict(preds.metrics or {})
    metrics["train_seconds"] = seconds
    return metrics, preds.columns, model.task


def _baseline_run(
    name: str, seed: int, train_pts: Points, test_pts: Points, cfg: BenchmarkConfig
) -> tuple[dict[str, Any], dict[str, np.ndarray], str]:
    from geoenc.metrics.classification import classification_metrics, per_point_classification
    from geoenc.metrics.regression import per_point_regression, regression_metrics
    from geoenc.models import data as D
    from geoenc.models.data import from_points

    tr = from_points(train_pts, cfg.label)
    te = from_points(test_pts, cfg.label)
    task = cfg.task or D.infer_task(tr)
    ll_tr = np.column_stack((train_pts.lon, train_pts.lat))
    ll_te = np.column_stack((test_pts.lon, test_pts.lat))
    t0 = time.perf_counter()
    if task == "regression":
        ytr = np.asarray(tr.labels, dtype=np.float64)
        yte = np.asarray(te.labels, dtype=np.float64)
        pred, info = fit_predict(name, task, ll_tr, ytr, ll_te, None, seed)
        metrics = regression_metrics(pred, yte)
        cols = per_point_regression(pred, yte)
    else:
        classes = D.fit_classes(tr, "classification")
        ytr = D.encode_labels(tr, "classification", classes, None)
        yte = D.encode_labels(te, "classification", classes, None)
        probs, info = fit_predict(name, task, ll_tr, ytr, ll_te, len(classes), seed)
        metrics = classification_metrics(probs, yte)
        cols = per_point_classification(probs, yte)
    record: dict[str, Any] = {**metrics, "train_seconds": time.perf_counter() - t0, "settings": info}
    return record, cols, task


def run_benchmark(
    train_path: str,
    test_path: str,
    out_dir: str | Path,
    cfg: BenchmarkConfig,
    *,
    fmt: str | None = None,
    coord_opts: CoordOptions | None = None,
    overwrite: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every (method, seed) not already in ``out_dir/runs``; write the table and chart; return all records.

    ``out_dir`` gets ``runs/<method>__seed<i>.json`` per finished run (a rerun skips those unless ``overwrite``),
    then ``results.csv``, ``results.md`` and ``results.png`` built from every run file.
    """
    from geoenc.io import read_points

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {str(out)!r} exists and is not a directory")
    from geoenc.device import parse_device

    parse_device(cfg.device)
    train_pts = read_points(train_path, fmt, opts=coord_opts)
    test_pts = read_points(test_path, fmt, opts=coord_opts)
    for name, pts in (("train", train_pts), ("test", test_pts)):
        if cfg.label not in pts.attrs.column_names:
            columns = ", ".join(pts.attrs.column_names)
            raise InputError(f"label column {cfg.label!r} is not in the {name} file (columns: {columns})")
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    threshold = cfg.threshold
    jobs = [(m, s, "encoder") for m in cfg.methods for s in range(cfg.seeds)]
    jobs += [(b, s, "baseline") for b in cfg.baselines for s in range(cfg.seeds)]
    records = []
    for i, (name, seed, kind) in enumerate(jobs):
        path = _run_file(out, name, seed)
        if path.exists() and not overwrite:
            records.append(json.loads(path.read_text()))
            continue
        if progress is not None:
            progress(f"{name} seed {seed}", i, len(jobs))
        runner = _neural_run if kind == "encoder" else _baseline_run
        metrics, cols, task = runner(name, seed, train_pts, test_pts, cfg)
        if task == "regression" and threshold is None:
            threshold = float(np.std(np.asarray(test_pts.attrs.column(cfg.label).to_numpy(), dtype=np.float64)))
        bias = _geobias(test_pts, cols, task, cfg, threshold if threshold is not None else 0.0)
        record = {
            "method": name,
            "kind": kind,
            "seed": seed,
            "task": task,
            **metrics,
            **bias,
            "config": asdict(cfg) | {"methods": None},
            "threshold": threshold if task == "regression" else None,
        }
        _write_json(path, record)
        records.append(record)
    if progress is not None:
        progress("done", len(jobs), len(jobs))
    header = (
        f"# geoenc benchmark\n\ntrain: `{train_path}`, test: `{test_path}`, label: `{cfg.label}`, epochs: "
        f"{cfg.epochs}, seeds: {cfg.seeds}, machine: {platform.machine()} with {os.cpu_count()} CPU cores"
    )
    write_csv(records, out / "results.csv")
    write_markdown(records, out / "results.md", header)
    write_chart(records, out / "results.png")
    return records
