"""Are frozen GeoCLIP embeddings useful? The sample data's country task with 1 %, 5 % and 100 % of the labels.

Data: sample_data/cities_train.parquet (27,059 GeoNames places) for training, cities_test.parquet (6,947) for
testing, label ``country``. For each seed (default 0, 1, 2) and label fraction, a seeded class-stratified
subset of the training file is drawn (``geoenc.pretrain.stratified_fraction``: CSP's few-shot protocol, at least
one place per country); every arm sees only that subset, and all are scored on the whole test file (test places
of a country absent from the training file are dropped: no arm can name it).

Arms:
- ``GeoCLIP linear probe``: a linear layer on the frozen 512-d GeoCLIP embedding (``geoenc pretrained import
  geoclip``, then what ``geoenc encode --model`` computes), standardised with the subset's mean and std;
- ``GeoCLIP linear probe, raw embedding`` (arm ``proberaw``, not in the default list): the same without the
  standardisation, i.e. what ``geoenc train --init DIR --freeze-encoder`` fits;
- ``GeoCLIP + MLP``: the same frozen embedding → Linear(512→256) → ReLU → Dropout(0.3) → Linear(256→C);
- ``GeoCLIP kNN``: k nearest neighbours (cosine) on the frozen embedding;
- ``sphereM + ffn (scratch)``: geoenc's sphereM encoder + ffn from random initialisation (the
  ``sphereM+ffn`` configuration of benchmarks/quality_geonames.py), trained by ``geoenc.training.train``;
- ``kNN (xyz)`` and ``random forest (xyz)`` on 3-D unit vectors, as in benchmarks/quality_geonames.py.

Every neural arm gets the same budget: ``--steps`` optimiser steps (AdamW, cosine schedule, batch 512 or the
subset if smaller), no early stopping (there is no validation set with 1 % of the labels). The heads on frozen
embeddings are trained on embeddings computed once — the same function as ``geoenc train --init DIR
--freeze-encoder`` trains, which recomputes the frozen 9.4 M-multiply-add-per-point net in every epoch; with
``--check-product-path`` the linear probe is also run through ``geoenc.training.train(init=, freeze_encoder=True)``
at 5 % for seed 0, on the raw (unstandardised) embedding as a user would.

    nice -n 10 python benchmarks/geoclip_usefulness.py --threads 1 --json geoclip_usefulness.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

FRACTIONS = (0.01, 0.05, 1.0)


def load(path: Path):
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["lon", "lat", "country"])
    lonlat = np.column_stack([t["lon"].to_numpy(), t["lat"].to_numpy()])
    return lonlat, np.asarray(t["country"].to_pylist(), dtype=object)


def scores(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from geoenc.metrics.classification import classification_metrics

    m = classification_metrics(probs, y)
    return {k: m[k] for k in ("top1", "top3", "mrr")}


def full_probs(p: np.ndarray, cols: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((p.shape[0], n_classes))
    out[:, cols] = p
    return out


def train_head(x, y, x_test, n_classes, *, hidden, seed, steps, lr, batch=512, dropout=0.3):
    """A linear layer (hidden=0) or a one-hidden-layer MLP on fixed features; returns test probabilities."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    d = x.shape[1]
    if hidden:
        head = torch.nn.Sequential(
            torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(hidden, n_classes)
        )
    else:
        head = torch.nn.Linear(d, n_classes)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    gen = torch.Generator().manual_seed(seed)
    bs = min(batch, len(y))
    step = 0
    head.train()
    while step < steps:
        perm = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), bs):
            idx = perm[i : i + bs]
            loss = F.cross_entropy(head(xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step >= steps:
                break
    head.eval()
    with torch.no_grad():
        return torch.softmax(head(torch.as_tensor(x_test, dtype=torch.float32)), dim=1).numpy()


def knn(x, y, x_test, n_classes, metric="euclidean"):
    """k and weighting chosen by leave-one-out accuracy on the training subset itself."""
    from sklearn.neighbors import KNeighborsClassifier

    best = None
    for k in (1, 3, 5, 10, 20):
        if k >= len(y):
            continue
        for w in ("uniform", "distance"):
            clf = KNeighborsClassifier(n_neighbors=k + 1, weights="uniform", metric=metric).fit(x, y)
            nbr = clf.kneighbors(x, return_distance=True)
            dist, ind = nbr[0][:, 1:], nbr[1][:, 1:]  # leave the point itself out
            wts = np.ones_like(dist) if w == "uniform" else 1.0 / np.maximum(dist, 1e-12)
            votes = np.zeros((len(y), n_classes))
            np.add.at(votes, (np.repeat(np.arange(len(y)), k), y[ind].ravel()), wts.ravel())
            acc = float(np.mean(votes.argmax(1) == y))
            if best is None or acc > best[0]:
                best = (acc, k, w)
    _, k, w = best
    clf = KNeighborsClassifier(n_neighbors=k, weights=w, metric=metric).fit(x, y)
    return full_probs(clf.predict_proba(x_test), clf.classes_, n_classes), f"k={k}, {w}"


def forest(x, y, x_test, n_classes, seed):
    from sklearn.ensemble import RandomForestClassifier

    clf = RandomForestClassifier(n_estimators=200, max_features=2, random_state=seed, n_jobs=1).fit(x, y)
    return full_probs(clf.predict_proba(x_test), clf.classes_, n_classes)


def sphere_m_ffn(lonlat, labels, test_ll, classes, seed, steps):
    from quality_geonames import CONFIGS

    from geoenc.training import PointData, TrainConfig, train

    kw = dict(CONFIGS["sphereM+ffn"])
    kw.pop("patience", None)
    bs = min(512, len(labels))
    kw.update(batch_size=bs, epochs=max(1, round(steps / math.ceil(len(labels) / bs))))
    res = train(TrainConfig(seed=seed, device="cpu", **kw), PointData(lonlat, labels))
    model = res.loaded
    p = model.predict(test_ll).numpy()
    cols = np.array([classes.index(c) for c in model.classes])
    return full_probs(p, cols, len(classes))


def xyz(lonlat):
    lo, la = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    ap.add_argument("--steps", type=int, default=2000, help="optimiser steps of every neural arm")
    ap.add_argument("--arms", default="probe,mlp,geoknn,scratch,knn,rf")
    ap.add_argument("--model", help="an imported geoclip model directory (default: import into a temporary one)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check-product-path", action="store_true")
    ap.add_argument("--check-steps", type=int, default=300, help="steps of the product-path cross-check")
    ap.add_argument("--json", help="append each result row to this JSON file as it is made")
    ap.add_argument("--table-from", nargs="+", metavar="JSON", help="only print the table of earlier --json runs")
    args = ap.parse_args(argv)
    if args.table_from:
        rows = [r for p in args.table_from for r in json.loads(Path(p).read_text())]
        print_table(rows)
        return

    import torch

    from geoenc.models import load_model
    from geoenc.pretrained import import_pretrained
    from geoenc.training import stratified_fraction

    torch.set_num_threads(args.threads)
    tr_ll, tr_y = load(ROOT / "sample_data" / "cities_train.parquet")
    te_ll, te_y = load(ROOT / "sample_data" / "cities_test.parquet")
    classes = sorted(set(tr_y))
    index = {c: i for i, c in enumerate(classes)}
    keep = np.array([c in index for c in te_y])
    te_ll, te_y = te_ll[keep], te_y[keep]
    tr_code = np.array([index[c] for c in tr_y])
    te_code = np.array([index[c] for c in te_y])
    print(
        f"# country: {len(tr_y)} train, {len(te_y)} test ({int((~keep).sum())} test places of countries absent "
        f"from training dropped), {len(classes)} classes; load {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
    )

    tmp = tempfile.TemporaryDirectory()
    model_dir = args.model or import_pretrained("geoclip", Path(tmp.name) / "geoclip").path
    t0 = time.perf_counter()
    gc = load_model(model_dir)
    emb_tr = gc.embed(tr_ll, batch_size=8192).numpy()
    emb_te = gc.embed(te_ll, batch_size=8192).numpy()
    print(
        f"# GeoCLIP embeddings of {len(tr_ll) + len(te_ll)} places in {time.perf_counter() - t0:.0f}s", file=sys.stderr
    )

    arms = args.arms.split(",")
    rows = []
    for seed in map(int, args.seeds.split(",")):
        for frac in map(float, args.fractions.split(",")):
            sub = stratified_fraction(tr_y, frac, seed)
            y = tr_code[sub]
            n = len(sub)

            def record(arm, probs, t_start, note="", frac=frac, seed=seed, n=n):
                row = {"arm": arm, "fraction": frac, "seed": seed, "n_train": n, **scores(probs, te_code)}
                row.update(seconds=round(time.perf_counter() - t_start, 1), note=note)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
                if args.json:
                    old = json.loads(Path(args.json).read_text()) if Path(args.json).exists() else []
                    Path(args.json).write_text(json.dumps([*old, row], indent=1))

            mean, std = emb_tr[sub].mean(0), emb_tr[sub].std(0) + 1e-8
            z_tr, z_te = (emb_tr[sub] - mean) / std, (emb_te - mean) / std
            if "probe" in arms:
                t = time.perf_counter()
                p = train_head(z_tr, y, z_te, len(classes), hidden=0, seed=seed, steps=args.steps, lr=3e-3)
                record("GeoCLIP linear probe", p, t)
            if "proberaw" in arms:  # what `train --init DIR --freeze-encoder` fits: no standardisation
                t = time.perf_counter()
                p = train_head(emb_tr[sub], y, emb_te, len(classes), hidden=0, seed=seed, steps=args.steps, lr=3e-3)
                record("GeoCLIP linear probe, raw embedding", p, t)
            if "mlp" in arms:
                t = time.perf_counter()
                p = train_head(z_tr, y, z_te, len(classes), hidden=256, seed=seed, steps=args.steps, lr=3e-3)
                record("GeoCLIP + MLP", p, t)
            if "geoknn" in arms:
                t = time.perf_counter()
                p, note = knn(emb_tr[sub], y, emb_te, len(classes), metric="cosine")
                record("GeoCLIP kNN (cosine)", p, t, note)
            if "scratch" in arms:
                t = time.perf_counter()
                p = sphere_m_ffn(tr_ll[sub], tr_y[sub], te_ll, classes, seed, args.steps)
                record("sphereM + ffn (scratch)", p, t)
            if "knn" in arms:
                t = time.perf_counter()
                p, note = knn(xyz(tr_ll[sub]), y, xyz(te_ll), len(classes))
                record("kNN (xyz)", p, t, note)
            if "rf" in arms:
                t = time.perf_counter()
                record("random forest (xyz)", forest(xyz(tr_ll[sub]), y, xyz(te_ll), len(classes), seed), t)
            if args.check_product_path and seed == 0 and frac == 0.01:
                # the product path recomputes the frozen net every epoch: a short budget, full batches (410
                # places at 1 %), the same for the cached head on the same raw (unstandardised) embedding
                from geoenc.models.transfer import encoder_settings
                from geoenc.training import PointData, TrainConfig, train

                check = args.check_steps
                t = time.perf_counter()
                p = train_head(emb_tr[sub], y, emb_te, len(classes), hidden=0, seed=seed, steps=check, lr=3e-3, batch=n)
                record(f"check: cached linear probe, raw embedding, {check} full-batch steps", p, t)
                t = time.perf_counter()
                cfg = TrainConfig(
                    **encoder_settings(model_dir),
                    init=str(model_dir),
                    freeze_encoder=True,
                    epochs=check,
                    batch_size=n,
                    lr=3e-3,
                    lr_schedule="cosine",
                    seed=seed,
                    device="cpu",
                )
                res = train(cfg, PointData(tr_ll[sub], tr_y[sub]))
                cols = np.array([index[c] for c in res.loaded.classes])
                p = full_probs(res.loaded.predict(te_ll).numpy(), cols, len(classes))
                record(f"check: train --init --freeze-encoder, {check} full-batch steps", p, t)
    print_table(rows)
    tmp.cleanup()


def print_table(rows) -> None:
    import collections

    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["arm"], r["fraction"])].append(r)
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    fracs = sorted({r["fraction"] for r in rows})
    print("| arm | " + " | ".join(f"{100 * f:g} % labels: top-1 | MRR" for f in fracs) + " |")
    print("|---|" + "---|---|" * len(fracs))
    for arm in arms:
        cells = []
        for f in fracs:
            g = groups.get((arm, f), [])
            if not g:
                cells += ["–", "–"]
                continue
            t1 = np.array([r["top1"] for r in g]) * 100
            mrr = np.array([r["mrr"] for r in g])
            sd = f" ± {t1.std(ddof=1):.2f}" if len(g) > 1 else ""
            cells += [f"{t1.mean():.2f}{sd} (n={len(g)})", f"{mrr.mean():.4f}"]
        print(f"| {arm} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
