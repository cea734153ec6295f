"""Which training defaults hold up: geoenc configurations vs kNN and random forest on three real tasks.

The table and the evidence behind ``geoenc train``'s defaults are in docs/models.md ("Defaults of geoenc
train"); this script produces them.

Tasks (all location-only; every model sees lon/lat and nothing else; nothing is downloaded):

* ``country`` — classification, global, sharp boundaries: the country of a GeoNames place, on the bundled
  sample split (``sample_data/cities_train.parquet`` 27,059 places / ``cities_test.parquet`` 6,947; 234
  countries in train, 10 test places in countries never seen in training, which count as errors for every
  model).
* ``linke`` — regression, global, smooth with fine detail: the annual mean Linke turbidity of pvlib's
  climatology (``LinkeTurbidities.h5``, 1/12° grid × 12 months, stored as 20 × T_L; looked up at the nearest
  grid node exactly as ``pvlib.clearsky.lookup_linke_turbidity`` does, checked against it on 50 points) at
  20,000 points drawn uniformly on the sphere (seed 0; land and sea, since the field covers both):
  the first 16,000 train, the last 4,000 test.
* ``ariolimax`` — classification, regional (California, ~10° × 10°), noisy labels: elapid's Ariolimax
  (banana slug) presence (1,595) / background (4,990) points; a stratified 30 % test split (seed 1000, the
  split of ``benchmarks/fewshot_sdm.py``). The score is top-1 (accuracy; 75.8 % for "always background")
  and ROC AUC, the usual species-distribution score.

Protocol. ``--split val`` (model selection): the training set is split 90/10 (seeded, stratified by class)
and every model is fitted on the 90 % and scored on the 10 %; test data are not touched. ``--split test``
(the reported table): models are fitted on the whole training set and scored on the test set. The
baselines (scikit-learn on unit vectors x, y, z, like ``geoenc.benchmark.baselines``) choose their
hyper-parameters on the 90/10 split in both modes (kNN: k × uniform/distance; random forest, 200 trees:
max_features × min_samples_leaf), or take them from an earlier validation run (``--tuned-from``), and are
refitted on the whole training set for ``--split test``. geoenc configurations are trained as
``geoenc train`` trains them: no validation set, a fixed number of epochs, the last epoch's weights.
``default`` is whatever ``TrainConfig()`` gives today (no setting named), i.e. plain ``geoenc train``.

    python benchmarks/quality_defaults.py --split val --configs '' --json val_base.json   # baselines only
    python benchmarks/quality_defaults.py --split val --no-baselines --configs old_default,sphereC+_d0.1 \
        --set batch_size=256 --tag b256 --seeds 0,1,2 --json val_grid.json
    python benchmarks/quality_defaults.py --split test --tuned-from val_base.json --configs default --seeds 0,1,2
    python benchmarks/quality_defaults.py --write-data data/ --tasks linke     # the points as GeoParquet

One CPU thread (``--threads``); the rows go to stdout as a markdown table, progress to stderr, and with
``--json FILE`` all rows are appended to FILE (``--table-from FILE…`` prints the mean ± std table again).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

_OLD_FFN = {"hidden": 512, "layers": 1, "out": 256, "dropout": 0.5}
_OLD_TRAIN = dict(epochs=30, batch_size=1024, lr=1e-3, weight_decay=1e-4, lr_schedule="exp", lr_decay=0.98)
_SPHERE = {"frequency_num": 32, "min_radius": 0.001, "max_radius": 1.0}
#: the schedule of today's default (batch 256, cosine over 60 epochs; lr 1e-3 unless a config says otherwise)
_NEW_SCHEDULE = dict(epochs=60, batch_size=256, lr_schedule="cosine")


def _cfg(method, method_params=None, net="ffn", net_params=None, **train):
    return dict(
        method=method, method_params=dict(method_params or {}), net=net, net_params=dict(net_params or {}), **train
    )


def _ffn(dropout, **kw):
    return {**_OLD_FFN, "dropout": dropout, **kw}


#: name → TrainConfig keyword arguments. ``default`` is whatever TrainConfig and the encoder/net classes say
#: today (nothing set); ``old_default`` spells out the defaults before this benchmark (geoenc ≤ 0.x, issue 12).
CONFIGS: dict[str, dict] = {
    "default": {},
    "old_default": _cfg("sphereM", _SPHERE, "ffn", _OLD_FFN, **_OLD_TRAIN),
    # the FFN's dropout (0.5 is TorchSpatial's value), with the old schedule
    "sphereM_d0": _cfg("sphereM", _SPHERE, "ffn", _ffn(0.0), **_OLD_TRAIN),
    "sphereM_d0.1": _cfg("sphereM", _SPHERE, "ffn", _ffn(0.1), **_OLD_TRAIN),
    "sphereC+_d0.5": _cfg("sphereC+", _SPHERE, "ffn", _OLD_FFN, **_OLD_TRAIN),
    "sphereC+_d0": _cfg("sphereC+", _SPHERE, "ffn", _ffn(0.0), **_OLD_TRAIN),
    "sphereC+_d0.1": _cfg("sphereC+", _SPHERE, "ffn", _ffn(0.1), **_OLD_TRAIN),
    "sh_siren": _cfg("sh", {"degree": 10}, "siren", {"hidden": 256}, **_OLD_TRAIN),  # the sh/siren defaults before
    "sh20_siren": _cfg("sh", {"degree": 20}, "siren", {"hidden": 512}, **_OLD_TRAIN),
    "rff_d0.1": _cfg("rff", {}, "ffn", _ffn(0.1), **_OLD_TRAIN),
    "theory_d0.1": _cfg("theory", {}, "ffn", _ffn(0.1), **_OLD_TRAIN),
    **{
        f"rbf{s}_d0.1": _cfg("rbf", {"num_anchors": 200, "kernel_size": float(s)}, "ffn", _ffn(0.1), **_OLD_TRAIN)
        for s in (1, 2, 5, 10)
    },
    **{
        f"rbf{s}x1000_d0.1": _cfg("rbf", {"num_anchors": 1000, "kernel_size": float(s)}, "ffn", _ffn(0.1), **_OLD_TRAIN)
        for s in (2, 5)
    },
    "sh20_siren256": _cfg("sh", {"degree": 20}, "siren", {"hidden": 256}, **_OLD_TRAIN),
    "rbf1_d0.5": _cfg("rbf", {"num_anchors": 200, "kernel_size": 1.0}, "ffn", _OLD_FFN, **_OLD_TRAIN),
    # the best configurations on validation (docs/models.md): global tasks, and the regional one
    "sh20_siren_lr5e-4": _cfg(
        "sh", {"degree": 20}, "siren", {"hidden": 512}, **{**_OLD_TRAIN, **_NEW_SCHEDULE, "lr": 5e-4}
    ),
    "sphereM_d0.1_b256": _cfg("sphereM", _SPHERE, "ffn", _ffn(0.1), **{**_OLD_TRAIN, "batch_size": 256}),
    "sphereM_d0.1_b128_cos": _cfg(
        "sphereM", _SPHERE, "ffn", _ffn(0.1), **{**_OLD_TRAIN, **_NEW_SCHEDULE, "batch_size": 128}
    ),
}


# -- data ---------------------------------------------------------------------------------------------
def _linke_grid() -> np.ndarray:
    import h5py
    import pvlib

    path = Path(pvlib.__file__).parent / "data" / "LinkeTurbidities.h5"
    with h5py.File(path, "r") as f:
        return f["LinkeTurbidity"][:]  # (2160 lat rows from +90, 4320 lon columns from −180, 12 months), 20·T_L


def _linke_index(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pvlib's nearest-node indices (``clearsky._degrees_to_index``), vectorised."""
    i = np.clip(np.around((90 - 1 / 24 - lat) * 12), 0, 2159).astype(int)
    j = np.clip(np.around((lon - (-180 + 1 / 24)) * 12), 0, 4319).astype(int)
    return i, j


def linke_points(n: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform on the sphere (seeded) and the annual mean Linke turbidity there."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    grid = _linke_grid()
    i, j = _linke_index(lon, lat)
    monthly = grid[i, j].astype(np.float64) / 20.0  # (n, 12)
    _check_against_pvlib(lon[:50], lat[:50], monthly[:50])
    return np.column_stack([lon, lat]), monthly.mean(axis=1)


def _check_against_pvlib(lon, lat, monthly) -> None:
    import pandas as pd
    from pvlib.clearsky import lookup_linke_turbidity

    times = pd.date_range("2021-01-01", periods=12, freq="MS", tz="UTC") + pd.Timedelta(days=14)
    for k in range(len(lon)):
        ref = lookup_linke_turbidity(times, lat[k], lon[k], interp_turbidity=False).to_numpy()
        if not np.allclose(ref, monthly[k]):
            raise SystemExit(f"Linke lookup differs from pvlib at {lon[k]}, {lat[k]}: {ref} vs {monthly[k]}")


def load_task(name: str) -> dict:
    """``train``/``test`` lon/lat (N, 2), labels (N,), and the task kind."""
    if name == "country":
        import geopandas as gpd

        tr = gpd.read_parquet(ROOT / "sample_data" / "cities_train.parquet")
        te = gpd.read_parquet(ROOT / "sample_data" / "cities_test.parquet")
        return {
            "kind": "classification",
            "train": (tr[["lon", "lat"]].to_numpy(), tr["country"].to_numpy(dtype=object)),
            "test": (te[["lon", "lat"]].to_numpy(), te["country"].to_numpy(dtype=object)),
        }
    if name == "linke":
        lonlat, y = linke_points()
        return {"kind": "regression", "train": (lonlat[:16000], y[:16000]), "test": (lonlat[16000:], y[16000:])}
    if name == "ariolimax":
        import elapid

        from geoenc.training import stratified_fraction

        x, y = elapid.load_sample_data("ariolimax")
        pts = x.geometry.to_crs(4326)
        lonlat = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
        y = y.to_numpy().astype(np.int64)
        test = np.zeros(len(y), bool)
        test[stratified_fraction(y, 0.3, seed=1000)] = True
        return {"kind": "classification", "train": (lonlat[~test], y[~test]), "test": (lonlat[test], y[test])}
    raise SystemExit(f"unknown task {name!r}: choose country, linke or ariolimax")


def val_split(labels: np.ndarray, kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded 90/10 split of the training set (stratified by class for classification)."""
    from geoenc.training import split_validation

    strata = None
    if kind == "classification":
        _, strata = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    return split_validation(len(labels), 0.1, seed, strata)


def write_data(directory: str, tasks: list[str]) -> None:
    """Write each task's train/test points as GeoParquet (``<task>_train.parquet``, ``<task>_test.parquet``).

    The label column is ``linke`` (annual mean Linke turbidity), ``presence`` (0/1) or ``country``.
    """
    import pyarrow as pa

    from geoenc.io import write_points

    column = {"linke": "linke", "ariolimax": "presence", "country": "country"}
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for name in tasks:
        task = load_task(name)
        for part in ("train", "test"):
            lonlat, y = task[part]
            values = pa.array(list(y)) if task["kind"] == "classification" else pa.array(np.asarray(y, np.float64))
            path = out / f"{name}_{part}.parquet"
            write_points(path, lonlat[:, 0], lonlat[:, 1], pa.table({column[name]: values}), overwrite=True)
            print(f"wrote {len(y)} points to {path}", file=sys.stderr)


# -- scores -------------------------------------------------------------------------------------------
def score(kind: str, classes: list, pred: np.ndarray, y: np.ndarray) -> dict:
    """top-1 (+ ROC AUC for two classes) from probabilities (N, C) over ``classes``; R², RMSE from values."""
    if kind == "regression":
        y = np.asarray(y, np.float64)
        err = pred - y
        return {"r2": float(1 - np.sum(err**2) / np.sum((y - y.mean()) ** 2)), "rmse": float(np.sqrt(np.mean(err**2)))}
    # compared as text: geoenc keeps the class names of integer labels as strings, scikit-learn as integers
    cls = np.asarray([str(c) for c in classes], dtype=object)
    y = np.asarray([str(v) for v in y], dtype=object)
    out = {"top1": float(np.mean(cls[pred.argmax(1)] == y))}
    if len(classes) == 2:
        from sklearn.metrics import roc_auc_score

        out["auc"] = float(roc_auc_score(y == cls[1], pred[:, 1]))
    return out


def _xyz(lonlat: np.ndarray) -> np.ndarray:
    from geoenc.metrics.spatial import lonlat_to_xyz

    return lonlat_to_xyz(lonlat[:, 0], lonlat[:, 1])


def _primary(kind: str, s: dict) -> float:
    return s["r2"] if kind == "regression" else s["top1"]


def _sk_predict(model, kind, x):
    return model.predict(x) if kind == "regression" else model.predict_proba(x)


def tuned_params(paths: list[str]) -> dict[tuple[str, str], dict]:
    """(task, baseline) → the hyper-parameters an earlier ``--split val`` run chose (its ``--json`` rows)."""
    import re

    out = {}
    for path in paths:
        for r in json.loads(Path(path).read_text()):
            if r.get("split") != "val" or r.get("config") not in ("knn", "random_forest"):
                continue
            p = r.get("params")
            if p is None:  # rows written before "params" was stored: read the label
                if r["config"] == "knn":
                    k, w = re.fullmatch(r"kNN \(k=(\d+), (\w+)\)", r["model"]).groups()
                    p = {"n_neighbors": int(k), "weights": w}
                else:
                    f, leaf = re.search(r"max_features=(\d+), leaf=(\d+)", r["model"]).groups()
                    p = {"max_features": int(f), "min_samples_leaf": int(leaf)}
            out[(r["task"], r["config"])] = p
    return out


def run_baseline(name: str, task: dict, fit_idx, val_idx, final: bool, seed: int, params: dict | None = None) -> dict:
    """Tune on the 90/10 split (or take ``params``, chosen so before); with ``final`` refit on the whole training
    set and score the test set."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    kind = task["kind"]
    reg = kind == "regression"
    (ll_tr, y_tr), (ll_te, y_te) = task["train"], task["test"]
    x_tr, x_te = _xyz(ll_tr), _xyz(ll_te)
    if name == "knn":
        cls = KNeighborsRegressor if reg else KNeighborsClassifier
        grid = [{"n_neighbors": k, "weights": w} for k in (1, 3, 5, 8, 12, 20, 30, 50) for w in ("uniform", "distance")]
        make = lambda p: cls(**p)  # noqa: E731
    else:
        cls = RandomForestRegressor if reg else RandomForestClassifier
        grid = [{"max_features": f, "min_samples_leaf": leaf} for f in (1, 2, 3) for leaf in (1, 3, 10)]
        make = lambda p: cls(n_estimators=200, random_state=seed, n_jobs=1, **p)  # noqa: E731
    c0, t0 = time.process_time(), time.perf_counter()
    best = None
    if params is not None:
        if not final:
            raise SystemExit("--tuned-from is for --split test (the validation run is what chose the parameters)")
        grid = []
        best = (None, params, None)
    for p in grid:
        m = make(p).fit(x_tr[fit_idx], y_tr[fit_idx])
        classes = None if reg else list(m.classes_)
        s = score(kind, classes, _sk_predict(m, kind, x_tr[val_idx]), y_tr[val_idx])
        if best is None or _primary(kind, s) > _primary(kind, best[0]):
            best = (s, p, m)
    s, p, m = best
    if final:
        m = make(p).fit(x_tr, y_tr)
        s = score(kind, None if reg else list(m.classes_), _sk_predict(m, kind, x_te), y_te)
    label = (
        f"kNN (k={p['n_neighbors']}, {p['weights']})"
        if name == "knn"
        else (f"random forest (200 trees, max_features={p['max_features']}, leaf={p['min_samples_leaf']})")
    )
    return {
        "model": label,
        "config": name,
        "params": p,
        **s,
        "cpu_s": time.process_time() - c0,
        "wall_s": time.perf_counter() - t0,
    }


def run_geoenc(name: str, task: dict, fit_idx, val_idx, final: bool, seed: int, overrides: dict) -> dict:
    from geoenc.models.checkpoint import LoadedModel
    from geoenc.training import PointData, TrainConfig, train

    kind = task["kind"]
    (ll_tr, y_tr), (ll_te, y_te) = task["train"], task["test"]
    if final:
        fit_ll, fit_y, ev_ll, ev_y = ll_tr, y_tr, ll_te, y_te
    else:
        fit_ll, fit_y, ev_ll, ev_y = ll_tr[fit_idx], y_tr[fit_idx], ll_tr[val_idx], y_tr[val_idx]
    kw = dict(CONFIGS[name])
    for k, v in overrides.items():  # --set net_params={"dropout": 0} changes one net parameter, not all
        kw[k] = {**kw.get(k, {}), **v} if isinstance(v, dict) else v
    cfg = TrainConfig(seed=seed, device="cpu", task=kind, **kw)
    c0, t0 = time.process_time(), time.perf_counter()
    res = train(cfg, PointData(fit_ll, fit_y))
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    model: LoadedModel = res.loaded
    pred = model.predict(ev_ll).numpy().astype(np.float64)
    s = score(kind, model.classes, pred, ev_y)
    enc, net = res.config["encoder"], res.config["net"]
    return {
        "model": f"geoenc {name}",
        "config": name,
        **s,
        "cpu_s": cpu,
        "wall_s": wall,
        "train_loss": res.history[-1]["train_loss"],
        "settings": {
            "encoder": enc,
            "net": net,
            **{k: getattr(cfg, k) for k in ("epochs", "batch_size", "lr", "weight_decay", "lr_schedule", "lr_decay")},
        },
    }


# -- table --------------------------------------------------------------------------------------------
def print_table(rows: list[dict]) -> None:
    """Mean ± std over seeds per (split, task, model); margins against the better baseline of the same split."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["split"], r["task"], r["model"]), []).append(r)
    best_base: dict[tuple, float] = {}
    for (split, task, _model), rs in groups.items():
        if rs[0]["config"] in ("knn", "random_forest"):
            v = float(np.mean([_primary(r["kind"], r) for r in rs]))
            best_base[(split, task)] = max(best_base.get((split, task), -np.inf), v)
    print("| split | task | model | seeds | score | Δ vs better baseline | extra | CPU s / run |")
    print("|---|---|---|---|---|---|---|---|")
    for (split, task, model), rs in groups.items():
        kind = rs[0]["kind"]
        vals = np.array([_primary(kind, r) for r in rs])
        scale, unit = (1.0, "R²") if kind == "regression" else (100.0, "top-1 %")
        fmt = "{:.4f}" if kind == "regression" else "{:.2f}"
        sc = fmt.format(scale * vals.mean()) + (f" ± {fmt.format(scale * vals.std())}" if len(vals) > 1 else "")
        base = best_base.get((split, task))
        delta = (
            ""
            if base is None
            else f"{scale * (vals.mean() - base):+.4f}"
            if kind == "regression"
            else (f"{scale * (vals.mean() - base):+.2f}")
        )
        extra = ""
        if kind == "regression":
            extra = f"RMSE {np.mean([r['rmse'] for r in rs]):.4f}"
        elif "auc" in rs[0]:
            extra = f"AUC {np.mean([r['auc'] for r in rs]):.3f}"
        cpu = np.mean([r["cpu_s"] for r in rs])
        print(f"| {split} | {task} | {model} | {len(rs)} | {sc} ({unit}) | {delta} | {extra} | {cpu:.0f} |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="country,linke,ariolimax", help="comma-separated: country, linke, ariolimax")
    ap.add_argument("--configs", default="default", help=f"comma-separated, from: {', '.join(CONFIGS)}")
    ap.add_argument("--set", action="append", default=[], help="override a setting of every config: key=json")
    ap.add_argument("--tag", default="", help="suffix for the model name in the table (with --set)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds of the geoenc runs (default 0)")
    ap.add_argument(
        "--split",
        choices=["val", "test"],
        default="test",
        help="val: select on a 90/10 split of train; test: the table",
    )
    ap.add_argument("--no-baselines", action="store_true", help="skip kNN and the random forest")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of torch (default 1)")
    ap.add_argument("--json", help="append the rows to this JSON file")
    ap.add_argument(
        "--tuned-from",
        nargs="+",
        metavar="JSON",
        help="with --split test: take the baselines' hyper-parameters from these --split val --json files "
        "instead of tuning them again (the same choice, without the grid's CPU time)",
    )
    ap.add_argument("--write-data", metavar="DIR", help="only write the tasks' points as GeoParquet into DIR")
    ap.add_argument("--table-from", nargs="+", metavar="JSON", help="only print the table of earlier --json runs")
    args = ap.parse_args(argv)
    if args.table_from:
        rows = []
        for p in args.table_from:
            rows += json.loads(Path(p).read_text())
        print_table(rows)
        return

    if args.write_data:
        write_data(args.write_data, [t for t in args.tasks.split(",") if t])
        return

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    overrides = {k: json.loads(v) for k, _, v in (s.partition("=") for s in args.set)}
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            raise SystemExit(f"unknown config {c!r}; known: {', '.join(CONFIGS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    final = args.split == "test"
    tuned = tuned_params(args.tuned_from) if args.tuned_from else {}
    rows: list[dict] = []
    for tname in [t for t in args.tasks.split(",") if t]:
        task = load_task(tname)
        fit_idx, val_idx = val_split(task["train"][1], task["kind"])
        print(f"# {tname}: train {len(task['train'][1])}, test {len(task['test'][1])}", file=sys.stderr)
        jobs = [] if args.no_baselines else [("base", b, 0) for b in ("knn", "random_forest")]
        jobs += [("geoenc", c, s) for c in configs for s in seeds]
        for what, name, seed in jobs:
            if what == "base":
                r = run_baseline(name, task, fit_idx, val_idx, final, seed, tuned.get((tname, name)))
            else:
                r = run_geoenc(name, task, fit_idx, val_idx, final, seed, overrides)
                if args.tag:
                    r["model"] += f" {args.tag}"
                r["overrides"] = overrides
            r.update(task=tname, kind=task["kind"], split=args.split, seed=seed)
            rows.append(r)
            shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if k != "settings"}
            print(json.dumps(shown), file=sys.stderr, flush=True)
            if args.json:
                p = Path(args.json)
                old = json.loads(p.read_text()) if p.exists() else []
                p.write_text(json.dumps([*old, r], indent=1))
    print_table(rows)


if __name__ == "__main__":
    main()
