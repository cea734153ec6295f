"""Few-shot fine-tuning after contrastive spatial pre-training (CSP protocol) on a real SDM data set.

Which data: the task asked for elapid's Bradypus variegatus sample, but the copy elapid ships
(``elapid/data/bradypus.csv.gz``, the ``bradypus`` table of the R package maxnet) has **no coordinates**:
only ``presence`` and 14 covariates per row, so no location encoder can use it. The other sample elapid
ships, Ariolimax (banana slug) presence/background points in California, has point geometries
(EPSG:32610) and six covariates (surface temperature, leaf area index, cloud cover: mean and standard
deviation); this script uses it. ``--dataset bradypus`` explains the problem and stops.

Protocol (Mai et al., ICML 2023, on a small scale):
1. a fixed, stratified 30 % of the points is the test set (seed 1000);
2. for each seed, pre-train the location encoder (``geoenc.pretrain.pretrain``) on the other 70 %
   against their covariates (no labels), and write it as a model directory;
3. fine-tune presence/background classification on a stratified 1 / 5 / 10 / 20 / 100 % of the 70 %
   (``geoenc.pretrain.stratified_fraction``) from (a) a random init, (b) the pretrained encoder
   (``geoenc.pretrain.apply_pretrained``), (c) the pretrained encoder frozen (linear probe). All three get
   the same budget: the same number of AdamW steps, batch size, learning rate, seeds;
4. report test ROC AUC, mean ± std over the seeds, as a markdown table on stdout (progress on stderr).

``--split block`` holds out whole 1° grid cells instead (a region without labels); ``--pretrain-on all``
pre-trains on every point's covariates, test points included (covariates are known everywhere, labels
are not; the test labels are never used).

    python benchmarks/fewshot_sdm.py --objectives mc-bld,nce,clip,mse   # the first table in docs/pretrain.md
    python benchmarks/fewshot_sdm.py --write-data ariolimax.parquet   # the data as GeoParquet

Runs on one CPU thread in a few minutes (``--threads``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from geoenc.models.data import stratified_fraction
from geoenc.pretrain import PretrainConfig, pretrain
from geoenc.training import PointData

COVARIATES = ["SurfaceTempMean", "SurfaceTempStdv", "LAIMean", "LAIStdv", "CloudCoverMean", "CloudCoverStdv"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_ariolimax() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon/lat degrees (N, 2), covariates (N, 6), presence (N,) from elapid's packaged sample."""
    import elapid

    x, y = elapid.load_sample_data("ariolimax")
    pts = x.geometry.to_crs(4326)
    lonlat = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    return lonlat, x[COVARIATES].to_numpy(np.float32), y.to_numpy().astype(np.int64)


def write_data(path: str) -> None:
    import pyarrow as pa

    from geoenc.io import write_points

    lonlat, cov, y = load_ariolimax()
    split = np.full(len(y), "train", dtype=object)
    split[stratified_fraction(y, 0.3, seed=1000)] = "test"
    attrs = pa.table(
        {
            "presence": pa.array(y.astype(np.int8)),
            "covariates": pa.array(list(cov), pa.list_(pa.float32())),
            **{c: pa.array(cov[:, i]) for i, c in enumerate(COVARIATES)},
            "split": pa.array(list(split)),
        }
    )
    write_points(path, lonlat[:, 0], lonlat[:, 1], attrs, overwrite=True)
    log(f"wrote {len(y)} points to {path}")


def block_split(lonlat: np.ndarray, block: float, fraction: float, seed: int) -> np.ndarray:
    """Indices of the points in a seeded ``fraction`` of the occupied ``block``-degree grid cells."""
    cells = np.floor(lonlat / block).astype(np.int64)
    keys = cells[:, 0] * 100_000 + cells[:, 1]
    uniq = np.unique(keys)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(uniq, size=max(1, round(fraction * uniq.size)), replace=False)
    return np.sort(np.nonzero(np.isin(keys, chosen))[0])


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def finetune(
    args: argparse.Namespace,
    lonlat: np.ndarray,
    y: np.ndarray,
    test_ll: np.ndarray,
    test_y: np.ndarray,
    seed: int,
    init: str | None,
    freeze: bool,
) -> float:
    """Presence/background with CE from a random or pretrained encoder; test AUC after a fixed budget."""
    from finetune_budget import finetune_scores

    scores = finetune_scores(
        args.method,
        args.method_params,
        args.net_params,
        lonlat,
        y,
        test_ll,
        2,
        seed,
        init,
        freeze,
        steps=args.steps,
        lr=args.lr,
        batch_size=args.batch_size,
    )
    return auc(scores[:, 1], test_y)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="ariolimax", choices=["ariolimax", "bradypus"])
    ap.add_argument("--write-data", metavar="PATH", help="write the data as GeoParquet and stop")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--fractions", default="0.01,0.05,0.1,0.2,1.0")
    ap.add_argument("--method", default="sphereM")
    ap.add_argument(
        "--param", "-p", action="append", default=["frequency_num=16", "min_radius=0.001", "max_radius=0.5"]
    )
    ap.add_argument("--net-param", "-n", action="append", default=["hidden=256", "out=128", "dropout=0.3"])
    ap.add_argument("--objectives", default="mc-bld,clip,mse", help="comma-separated pre-training objectives")
    ap.add_argument(
        "--random-extent",
        default="sphere",
        choices=["sphere", "data"],
        help="where mc-bld/nce draw random-location negatives",
    )
    ap.add_argument(
        "--temperature",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="pre-training temperature for every objective, e.g. b=1 (default: geoenc's, i.e. CSP's)",
    )
    ap.add_argument("--pretrain-epochs", type=int, default=30)
    ap.add_argument("--pretrain-batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=400, help="fine-tuning AdamW steps (same for every init)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument(
        "--split",
        default="random",
        choices=["random", "block"],
        help="test set: a stratified random 30 %% of the points, or the points of 30 %% of the grid cells",
    )
    ap.add_argument("--block", type=float, default=1.0, help="grid cell size in degrees for --split block")
    ap.add_argument(
        "--pretrain-on",
        default="pool",
        choices=["pool", "all"],
        help="pre-train on the non-test points only, or on all points (their covariates, never labels)",
    )
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.dataset == "bradypus":
        sys.exit(
            "elapid's Bradypus sample (maxnet's `bradypus` table) has no coordinates, only presence and "
            "covariates: a location encoder cannot use it. Use --dataset ariolimax."
        )
    if args.write_data:
        write_data(args.write_data)
        return
    torch.set_num_threads(args.threads)
    args.method_params = dict(kv.split("=", 1) for kv in args.param)
    args.net_params = dict(kv.split("=", 1) for kv in args.net_param)
    fractions = [float(f) for f in args.fractions.split(",")]

    lonlat, cov, y = load_ariolimax()
    test = (
        block_split(lonlat, args.block, 0.3, seed=1000)
        if args.split == "block"
        else stratified_fraction(y, 0.3, seed=1000)
    )
    pool = np.setdiff1d(np.arange(len(y)), test)
    unlabeled = np.arange(len(y)) if args.pretrain_on == "all" else pool
    log(
        f"ariolimax: {len(y)} points ({int(y.sum())} presence), pool {len(pool)}, test {len(test)} "
        f"({int(y[test].sum())} presence), {args.split} split, pre-training on {len(unlabeled)} points"
    )
    objectives = args.objectives.split(",")
    variants = ["random init"] + [f"{o} {k}" for o in objectives for k in ("fine-tuned", "frozen")]
    results: dict[tuple[float, str], list[float]] = {(f, v): [] for f in fractions for v in variants}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            inits = {}
            for obj in objectives:
                cfg = PretrainConfig(
                    method=args.method,
                    method_params=args.method_params,
                    net="ffn",
                    net_params=args.net_params,
                    objective=obj,
                    epochs=args.pretrain_epochs,
                    batch_size=args.pretrain_batch,
                    seed=seed,
                    device="cpu",
                    random_extent=args.random_extent,
                    temperatures={k: float(v) for k, v in (kv.split("=", 1) for kv in args.temperature)},
                )
                inits[obj] = Path(tmp) / f"{obj}-{seed}"
                res = pretrain(cfg, PointData(lonlat[unlabeled], features=cov[unlabeled]), out_dir=inits[obj])
                log(
                    f"seed {seed}: pretrained {obj}: loss {res.history[0]['train_loss']:.3f} → "
                    f"{res.history[-1]['train_loss']:.3f} in {res.metrics['train_seconds']:.1f}s"
                )
            for f in fractions:
                sub = pool[stratified_fraction(y[pool], f, seed=seed)]
                for v in variants:
                    obj, _, kind = v.partition(" ")
                    init = inits.get(obj)
                    a = finetune(args, lonlat[sub], y[sub], lonlat[test], y[test], seed, init, kind == "frozen")
                    results[(f, v)].append(a)
                log(
                    f"  {f:>5.0%} ({len(sub)} labels): " + ", ".join(f"{v} {results[(f, v)][-1]:.3f}" for v in variants)
                )
    log(f"total {time.perf_counter() - t0:.0f}s")

    what = "30 % of the points" if args.split == "random" else f"the points of 30 % of the {args.block}° cells"
    print(
        f"Test ROC AUC, Ariolimax presence/background (elapid sample; test = {what}, {len(test)} points), "
        f"mean ± std over {args.seeds} seeds. Location encoder: {args.method} {' '.join(args.param)} + ffn "
        f"{' '.join(args.net_param)}; pre-training {args.pretrain_epochs} epochs, batch {args.pretrain_batch}, "
        f"random negatives from the {args.random_extent}, on "
        f"the covariates of {len(unlabeled)} points ({'all' if args.pretrain_on == 'all' else 'the non-test'}; "
        f"no labels); fine-tuning {args.steps} AdamW steps, batch "
        f"{args.batch_size}, lr {args.lr}, the same for every column."
        + (f" Temperatures {' '.join(args.temperature)}." if args.temperature else "")
        + "\n"
    )
    print("| labels | n | " + " | ".join(variants) + " |")
    print("|---|---|" + "---|" * len(variants))
    for f in fractions:
        n = len(stratified_fraction(y[pool], f, seed=0))
        best = max(variants, key=lambda v: np.mean(results[(f, v)]))
        cells = []
        for v in variants:
            cell = f"{np.mean(results[(f, v)]):.3f} ± {np.std(results[(f, v)]):.3f}"
            cells.append(f"**{cell}**" if v == best else cell)
        print(f"| {f:.0%} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
