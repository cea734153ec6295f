"""geoenc's SSI scores on TorchSpatial's own per-point predictions, beside the published geo-bias table.

Run: python benchmarks/geobias_paper_table.py PATH [--max-centres N] [--out table.md] [--json scores.json] [--quick]

PATH is a folder holding the per-point prediction CSVs that seai-lab/GeoBS commits (searched recursively;
nothing is downloaded), e.g. a checkout of that repository:

- ``data/torchspatial_results/eval_{fmow,inat_2017,inat_2018}__val_<model>.csv`` — TorchSpatial's
  predictions (columns lon, lat, true_class_prob, reciprocal_rank, hit@1, hit@3; the ``no_prior`` files have
  no coordinates: they are in the same row order as the other files of their dataset, whose lon/lat are used);
- ``baselines/TorchSpatial/eval_results/eval_birdsnap_{orig,ebird}_meta_test_<model>_trained-<e>_debiased-<d>.csv``
  — BirdSnap / BirdSnap† predictions re-trained in GeoBS (2026; ``debiased-2`` = trained with a geo-bias loss).

For each file: low performance = hit@1 = 0, rows without coordinates dropped (as PyGBS's reader does), the
summary is the mean over the low-performance centres. Score variants (``--variants``):

- ``pygbs``: ``mode="pygbs"`` at r = 0.05 rad, k = 400 (PyGBS's current code and script defaults);
- ``exact``: ``mode="exact"`` at r = 0.05 rad, k = 400 (unmarked presence = low-performance points);
- ``pygbs100``: ``mode="pygbs"`` at r = 100 km, k = 400 (the scale the paper states).

Each variant also gets the relative score (``--relative N`` seeded permutations of hit@1 at the same centres).
``--max-centres N`` scores a seeded random subset of N low-performance centres per file (the table then gives
each mean ± its standard error). Where GeoBS also commits its own per-point SSI for a file
(``GBS_score_result_table/ssi_radius_0.05/hit@1_weights``), their means over the low-performance points are
shown beside ours. The published numbers are TorchSpatial (NeurIPS 2024 D&B), geo-bias table, "base / rel"
(= unmarked / marked SSI) per dataset and model. Results and their discussion: docs/geobias.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geoenc.metrics.spatial import EARTH_RADIUS_KM
from geoenc.metrics.ssi import SSI_CAP, ssi_scores

# TorchSpatial (Wu, Cao et al., NeurIPS 2024 D&B), geo-bias table: (base, rel) per model and dataset
PAPER = {
    "birdsnap": {
        "No Prior": (28.22, 33.11), "rbf": (17.24, 19.75), "Space2Vec-theory": (36.78, 42.98),
        "NeRF": (29.66, 35.16), "sphereC": (28.84, 34.02),
    },
    "birdsnap_ebird": {
        "No Prior": (8.22, 7.06), "rbf": (9.37, 8.52), "Space2Vec-theory": (15.27, 14.36),
        "NeRF": (16.13, 15.53), "sphereC": (14.78, 13.94),
    },
    "inat_2017": {
        "No Prior": (26.60, 20.37), "rbf": (34.05, 26.80), "Space2Vec-theory": (34.12, 26.87),
        "NeRF": (34.93, 27.62), "sphereC": (35.77, 28.21),
    },
    "inat_2018": {
        "No Prior": (18.20, 13.38), "rbf": (20.48, 15.28), "Space2Vec-theory": (31.68, 24.92),
        "NeRF": (30.46, 23.90), "sphereC": (31.61, 24.96),
    },
    "fmow": {
        "No Prior": (375.73, 319.66), "rbf": (380.64, 324.46), "Space2Vec-theory": (382.49, 324.52),
        "NeRF": (375.81, 320.30), "sphereC": (377.07, 320.78),
    },
}  # fmt: skip
DATASET_LABEL = {
    "birdsnap": "BirdSnap",
    "birdsnap_ebird": "BirdSnap†",
    "inat_2017": "iNat2017",
    "inat_2018": "iNat2018",
    "fmow": "fMoW",
}
MODEL = {
    "no_prior": "No Prior",
    "rbf": "rbf",
    "Space2Vec-theory": "Space2Vec-theory",
    "NeRF": "NeRF",
    "Sphere2Vec-sphereC": "sphereC",
}
VARIANTS = {
    "pygbs": {"mode": "pygbs", "radius_km": 0.05 * EARTH_RADIUS_KM},
    "exact": {"mode": "exact", "radius_km": 0.05 * EARTH_RADIUS_KM},
    "pygbs100": {"mode": "pygbs", "radius_km": 100.0},
}
PATTERNS = [
    (re.compile(r"eval_(fmow|inat_2017|inat_2018)__val_(.+)\.csv$"), None),
    (re.compile(r"eval_birdsnap_(orig|ebird)_meta_test_(.+?)_(trained-\d+_debiased-\d+)\.csv$"), "birdsnap"),
]


def find_files(root: Path) -> list[dict]:
    """Every prediction CSV under ``root`` with its dataset, model and run tag."""
    found = []
    for path in sorted(root.rglob("eval_*.csv")):
        for pattern, family in PATTERNS:
            m = pattern.search(path.name)
            if not m:
                continue
            if family is None:
                dataset, model, run = m.group(1), m.group(2), "TorchSpatial"
            else:
                dataset = "birdsnap" if m.group(1) == "orig" else "birdsnap_ebird"
                model, run = m.group(2), m.group(3)
            if model in MODEL:
                found.append({"path": path, "dataset": dataset, "model": MODEL[model], "run": run})
            break
    return found


def read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = {}
    for key in rows[0]:
        if key in ("lon", "lat", "hit@1"):
            cols[key] = np.array([float(r[key]) if r[key] != "" else np.nan for r in rows])
    return cols


def load(entry: dict, files: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """lon, lat, bad of one file; coordinates from a sibling file of the same dataset when missing (None if
    there is none: GeoBS commits iNat2017 predictions with coordinates only in files too large to store)."""
    cols = read_csv(entry["path"])
    if "lon" not in cols:
        for other in files:
            if other["dataset"] == entry["dataset"] and other is not entry:
                sib = read_csv(other["path"])
                if "lon" in sib and sib["lon"].size == cols["hit@1"].size:
                    cols["lon"], cols["lat"] = sib["lon"], sib["lat"]
                    entry["coords_from"] = other["path"].name
                    break
        else:
            return None
    ok = np.isfinite(cols["lon"]) & np.isfinite(cols["lat"])
    entry["dropped"] = int((~ok).sum())
    return cols["lon"][ok], cols["lat"][ok], cols["hit@1"][ok] < 0.5


def pick_centres(bad: np.ndarray, max_centres: int, seed: int) -> np.ndarray:
    """Boolean centre mask: every low-performance point, or a seeded random subset of ``max_centres`` of them."""
    low = np.flatnonzero(bad)
    if max_centres <= 0 or low.size <= max_centres:
        return bad.copy()
    mask = np.zeros(bad.size, dtype=bool)
    mask[np.random.default_rng(seed).choice(low, max_centres, replace=False)] = True
    return mask


def score(lon, lat, bad, variant: str, relative: int, seed: int, jobs: int, centres: np.ndarray) -> dict:
    t = time.perf_counter()
    res = ssi_scores(
        lon, lat, bad, k=400, centres=centres, relative=relative, seed=seed, n_jobs=jobs, **VARIANTS[variant]
    )
    s = res.summary()
    low = res.centre & res.bad
    for name, arr in (("unmarked_ssi", res.unmarked), ("marked_ssi", res.marked)):
        v = arr[low][np.isfinite(arr[low])]  # standard error of the mean over the (sampled) centres
        s[name + "_se"] = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
    s["seconds"] = time.perf_counter() - t
    return s


def committed_scores(root: Path, dataset: str, model_file: str) -> dict | None:
    """Means of the per-point SSI scores GeoBS commits for the same predictions (GBS_score_result_table, PyGBS
    code of January 2025, r = 0.05 rad), over the low-performance centres and over all points; None if absent."""
    name = f"eval_{dataset}__val_{model_file.replace('no_prior', 'no_prior_coord')}_ssi_0.05.csv"
    paths = [p for p in root.rglob(name) if "hit@1_weights" in str(p) and p.stat().st_size > 0]
    if not paths:
        return None
    with open(paths[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    value = np.array([float(r["value"]) for r in rows])
    out: dict[str, float] = {}
    for col in ("pnp_ssi", "rp_ssi"):  # a few rows are empty (no score written): left out, as pandas would
        v = np.array([float(r[col]) if r[col] != "" else np.nan for r in rows])
        low = v[(value < 0.5) & np.isfinite(v)]
        out[col + "_low"] = float(low.mean())
        out[col + "_all"] = float(np.nanmean(v))
        out[col + "_low_saturated"] = float(np.mean(low >= SSI_CAP - 0.01))
        out[col + "_missing"] = int(np.isnan(v).sum())
    out["n"] = int(value.size)
    out["n_low"] = int((value < 0.5).sum())
    return out


def fmt(x, digits=2):
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}f}"


def markdown(results: list[dict], variants: list[str]) -> str:
    head = ["dataset", "model", "run", "low / n (scored)", "paper base", "paper rel", "GeoBS committed pnp / rp"]
    for v in variants:
        head += [f"{v} unmarked", f"{v} marked", f"{v} marked rel ± sd", f"{v} sat. un/mk %"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        base, rel = PAPER.get(r["dataset"], {}).get(r["model"], (None, None))
        scored = r.get("n_centres_scored", r["n_low"])
        size = f"{r['n_low']:,} / {r['n']:,}" + (f" ({scored:,})" if scored != r["n_low"] else "")
        c = r.get("committed")
        comm = f"{fmt(c['pnp_ssi_low'])} / {fmt(c['rp_ssi_low'])}" if c else "–"
        row = [DATASET_LABEL[r["dataset"]], r["model"], r["run"], size, fmt(base), fmt(rel), comm]
        for v in variants:
            s = r["scores"][v]
            se = scored != r["n_low"]
            un = fmt(s["unmarked_ssi"]) + (f" ± {fmt(s['unmarked_ssi_se'])}" if se else "")
            mk = fmt(s["marked_ssi"]) + (f" ± {fmt(s['marked_ssi_se'])}" if se else "")
            rel_txt = f"{fmt(s.get('marked_ssi_rel'))} ± {fmt(s.get('marked_ssi_random_sd'))}"
            sat = f"{100 * s['unmarked_saturated']:.0f} / {100 * s['marked_saturated']:.0f}"
            row += [un, mk, rel_txt, sat]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path, help="folder with GeoBS's per-point prediction CSVs (searched recursively)")
    ap.add_argument("--variants", default="pygbs,exact,pygbs100", help="comma-separated: " + ", ".join(VARIANTS))
    ap.add_argument("--datasets", default=",".join(PAPER), help="comma-separated subset of " + ", ".join(PAPER))
    ap.add_argument("--runs", default=None, help="BirdSnap runs to keep, e.g. trained-30_debiased-0 (default: all)")
    ap.add_argument("--relative", type=int, default=3, help="permutations for the relative score (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--max-centres",
        type=int,
        default=0,
        help="score a seeded random subset of this many low-performance centres per file (0: all; the table "
        "then shows the mean over the subset and its standard error)",
    )
    ap.add_argument("--jobs", type=int, default=1, help="processes for SSI (results do not depend on it)")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown table here")
    ap.add_argument("--json", type=Path, default=None, help="also write every summary here")
    ap.add_argument("--quick", action="store_true", help="only the BirdSnap files, one variant: a smoke test")
    a = ap.parse_args()
    if not a.path.is_dir():
        raise SystemExit(f"{a.path}: not a folder (give the folder holding the GeoBS prediction CSVs)")
    variants = [v for v in a.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}: choose from {', '.join(VARIANTS)}")
    datasets = set(a.datasets.split(","))
    if a.quick:
        datasets, variants = {"birdsnap", "birdsnap_ebird"}, variants[:1]
    files = find_files(a.path)
    chosen = [f for f in files if f["dataset"] in datasets and (a.runs is None or f["run"] in (a.runs, "TorchSpatial"))]
    if not chosen:
        raise SystemExit(f"{a.path}: no GeoBS prediction CSVs found (eval_<dataset>_..._<model>.csv)")
    print(f"{len(chosen)} prediction files; variants {', '.join(variants)}; load average {os.getloadavg()[0]:.1f}")
    results = []
    for entry in chosen:
        loaded = load(entry, files)
        if loaded is None:
            print(f"{entry['path'].name}: no coordinates (and no sibling file with them): skipped", flush=True)
            continue
        lon, lat, bad = loaded
        rec = {k: entry[k] for k in ("dataset", "model", "run")} | {
            "file": entry["path"].name,
            "n": int(lon.size),
            "n_low": int(bad.sum()),
            "dropped_rows": entry["dropped"],
            "coords_from": entry.get("coords_from"),
            "scores": {},
        }
        centres = pick_centres(bad, a.max_centres, a.seed)
        rec["n_centres_scored"] = int(centres.sum())
        if entry["run"] == "TorchSpatial":
            model_file = entry["path"].name.split("__val_", 1)[1][: -len(".csv")]
            rec["committed"] = committed_scores(a.path, entry["dataset"], model_file)
        for v in variants:
            rec["scores"][v] = score(lon, lat, bad, v, a.relative, a.seed, a.jobs, centres)
            s = rec["scores"][v]
            print(
                f"{entry['path'].name}: {v}: unmarked {fmt(s['unmarked_ssi'])}, marked {fmt(s['marked_ssi'])} "
                f"(rel {fmt(s.get('marked_ssi_rel'))} ± {fmt(s.get('marked_ssi_random_sd'))}), saturated "
                f"{100 * s['unmarked_saturated']:.0f}/{100 * s['marked_saturated']:.0f} %, {s['seconds']:.0f} s",
                flush=True,
            )
        results.append(rec)
        if a.json:  # after every file, so that a long run can be inspected (and is not lost)
            a.json.write_text(json.dumps(results, indent=1, default=float))
    order = list(PAPER)
    results.sort(key=lambda r: (order.index(r["dataset"]), list(MODEL.values()).index(r["model"]), r["run"]))
    table = markdown(results, variants)
    print(table)
    if a.out:
        a.out.write_text(table)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
