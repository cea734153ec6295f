"""Training throughput (samples/s): geoenc's loop vs a reference-style loop with numpy position encoding.

Two measurements. (1) Whole loops: ``geoenc.training.train`` vs the reference-style loop (and one with a
DataLoader), samples per wall-clock second; the first loop run pays the process's warm-up, so use enough
points. (2) Interleaved steps: the two ways of feeding the net alternate in one process after a warm-up,
reporting wall and CPU milliseconds per step; this is the steadier figure on a shared machine.

Both loops train the same sphereM + FFN classifier (same widths, AdamW, batch 1024, same number of
steps) on the CPU. They differ only in how the position encoding reaches the net:

* geoenc: the encoder runs in torch, float32, on the training device. The encoder has no trainable
  parameters, so :func:`geoenc.training.train` encodes the training points once per run and batches slice
  that tensor (the one-off encoding time is included in the measured time).
* reference-style: each batch's lon/lat are taken as a float64 numpy array, encoded with numpy
  (expand/repeat/concatenate, as the TorchSpatial code does), then copied into a new float32 tensor.
  A second variant also draws its batches from a shuffling ``DataLoader`` over a ``TensorDataset``, as the
  reference training scripts do; it is reported separately.

    python benchmarks/train_speed.py                 # 100k points, 3 epochs each, 2 threads
    python benchmarks/train_speed.py --points 20000 --epochs 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch


def sphere_m_numpy(lonlat: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """sphereM in float64 numpy, shaped like the reference implementation's batch × context × features."""
    coords = np.asarray(lonlat, dtype=float)[:, None, :] * math.pi / 180.0  # (B, 1, 2)
    lon1 = coords[:, :, 0:1]
    lat1 = coords[:, :, 1:2]
    scaled = np.repeat(coords[..., None], len(freqs), axis=3) * freqs  # (B, 1, 2, S)
    lon = scaled[:, :, 0, :][..., None]
    lat = scaled[:, :, 1, :][..., None]
    feats = np.concatenate(
        [
            np.sin(lat),
            np.cos(lat) * np.cos(lon1)[..., None],
            np.cos(lat1)[..., None] * np.cos(lon),
            np.cos(lat) * np.sin(lon1)[..., None],
            np.cos(lat1)[..., None] * np.sin(lon),
        ],
        axis=-1,
    )  # (B, 1, S, 5)
    feats = np.transpose(feats, (0, 1, 3, 2))  # term-major, geoenc's feature order
    return feats.reshape(coords.shape[0], 1, -1)[:, 0, :]


def make_data(n: int, classes: int, seed: int):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    # classes: cells of a coarse lon/lat grid, so the task is learnable
    side = math.ceil(math.sqrt(classes))
    cell = (np.floor((lon + 180) / 360 * side) * side + np.floor((lat + 90) / 180 * side)).astype(int) % classes
    return np.column_stack([lon, lat]), cell.astype(str).astype(object)


def torchspatial_encoder(path: str, frequency_num: int):
    """TorchSpatial's own sphereM position encoder, imported from a local checkout of seai-lab/TorchSpatial.

    Nothing of it is copied here: the user points ``--torchspatial`` at their checkout (its ``main/`` folder
    holds ``SpatialRelationEncoder.py``), and the benchmark calls it the way its models do — the batch's
    tensor unsqueezed to (B, 1, 2), moved to the CPU as numpy, encoded, returned as a FloatTensor.
    """
    import os
    import sys

    sys.path.insert(0, os.path.join(path, "main"))
    from SpatialRelationEncoder import SphereMixScaleSpatialRelationPositionEncoder

    enc = SphereMixScaleSpatialRelationPositionEncoder(
        coord_dim=2, frequency_num=frequency_num, max_radius=1.0, min_radius=0.001, freq_init="geometric", device="cpu"
    )

    def encode(lonlat_batch: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(lonlat_batch, dtype=torch.float32)
        return enc(torch.unsqueeze(x, 1).cpu().data.numpy())[:, 0, :]

    return encode


def reference_loop(
    model,
    lonlat: np.ndarray,
    y: np.ndarray,
    freqs: np.ndarray,
    epochs: int,
    batch: int,
    lr: float,
    seed: int,
    device: torch.device,
    encode=None,
    amp_dtype: torch.dtype | None = None,
) -> tuple[float, int]:
    """Train ``model`` the reference way: each batch encoded in float64 numpy on the CPU, then copied to the device.

    ``amp_dtype`` runs the net under ``torch.autocast`` in that dtype (as geoenc's loop does with ``amp``).
    """
    import contextlib

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    yt = torch.as_tensor(y, device=device)
    n = len(lonlat)
    seen = 0
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen).numpy()
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            # float64 numpy on the CPU → a new float32 tensor → the device, every batch
            if encode is None:
                feats = torch.FloatTensor(sphere_m_numpy(lonlat[idx], freqs)).to(device)
            else:  # TorchSpatial's encoder (its feature order differs; the net learns either)
                feats = encode(lonlat[idx]).to(device)
            ctx = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()
            with ctx:
                out = model.forward_encoded(feats)
                loss = torch.nn.functional.cross_entropy(out.float(), yt[torch.as_tensor(idx, device=device)])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(idx)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, seen


def reference_dataloader_loop(
    model,
    lonlat: np.ndarray,
    y: np.ndarray,
    freqs: np.ndarray,
    epochs: int,
    batch: int,
    lr: float,
    seed: int,
    device: torch.device,
) -> tuple[float, int]:
    """As :func:`reference_loop`, with batches from a shuffling ``DataLoader`` over a ``TensorDataset``."""
    from torch.utils.data import DataLoader, TensorDataset

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    loader = DataLoader(
        TensorDataset(torch.as_tensor(lonlat), torch.as_tensor(y)),
        batch_size=batch,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    seen = 0
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for coords, labels in loader:
            feats = torch.FloatTensor(sphere_m_numpy(coords.cpu().numpy(), freqs)).to(device)
            loss = torch.nn.functional.cross_entropy(model.forward_encoded(feats), labels.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(labels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, seen


def interleaved_steps(
    model,
    lonlat: np.ndarray,
    y: np.ndarray,
    freqs: np.ndarray,
    batch: int,
    lr: float,
    rounds: int,
    steps: int,
    seed: int,
) -> dict[str, float]:
    """Per-step cost of the two ways of feeding the net, alternated in one process so load drifts cancel.

    geoenc: slice a cached torch encoding with a randperm batch. reference: encode the batch in float64
    numpy and copy it into a new float32 tensor. Both then run the same forward/backward/AdamW step.
    Returns wall and CPU milliseconds per step for each, after a warm-up.
    """
    enc = model.location.position
    device = next(model.parameters()).device
    lonlat_t = torch.as_tensor(lonlat, dtype=torch.float32, device=device)
    with torch.no_grad():
        cached = torch.cat([enc(lonlat_t[i : i + 65536]) for i in range(0, len(lonlat_t), 65536)])
    yt = torch.as_tensor(y, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    n = len(lonlat)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step(feats: torch.Tensor, idx: torch.Tensor) -> None:
        loss = torch.nn.functional.cross_entropy(model.forward_encoded(feats), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def geoenc_style() -> None:
        idx = torch.randperm(n, generator=gen)[:batch].to(device)
        step(cached[idx], idx)

    def reference_style() -> None:
        idx = torch.randperm(n, generator=gen)[:batch]
        feats = torch.FloatTensor(sphere_m_numpy(lonlat[idx.numpy()], freqs)).to(device)
        step(feats, idx.to(device))

    totals = {"geoenc": [0.0, 0.0], "reference": [0.0, 0.0]}
    for fn in (geoenc_style, reference_style):  # warm-up
        for _ in range(3):
            fn()
    for _ in range(rounds):
        for name, fn in (("geoenc", geoenc_style), ("reference", reference_style)):
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(steps):
                fn()
            sync()
            totals[name][0] += time.perf_counter() - w0
            totals[name][1] += time.process_time() - c0
    k = rounds * steps
    return {
        f"{name}_{kind}_ms_per_step": round(1000 * totals[name][i] / k, 2)
        for name in totals
        for i, kind in enumerate(("wall", "cpu"))
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--frequency-num", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=512, help="FFN hidden width (out = hidden / 2)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (both loops)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=5, help="alternations in the interleaved per-step measurement")
    ap.add_argument("--steps", type=int, default=10, help="steps per alternation")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument(
        "--torchspatial",
        metavar="PATH",
        help="a local checkout of seai-lab/TorchSpatial: also time its own sphereM encoder in the loop",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from geoenc.models.location import build_model
    from geoenc.training import PointData, TrainConfig, train

    lonlat, labels = make_data(args.points, args.classes, args.seed)
    params = {"frequency_num": args.frequency_num, "min_radius": 0.001, "max_radius": 1.0}
    net_params = {"hidden": args.hidden, "out": max(args.hidden // 2, 1)}
    cfg = TrainConfig(
        method="sphereM",
        method_params=params,
        net="ffn",
        net_params=net_params,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        device=args.device,
        lr_schedule="constant",
    )

    # the numpy encoding must equal geoenc's (same features, same order) for the comparison to be fair
    torch.manual_seed(args.seed)
    classes = sorted(set(labels))
    ref_model = build_model("sphereM", params, "ffn", net_params, "classification", len(classes))
    from geoenc.encoders.base import geometric_frequencies

    freqs = geometric_frequencies(args.frequency_num, 0.001, 1.0).numpy()
    check = lonlat[:256]
    np.testing.assert_allclose(
        sphere_m_numpy(check, freqs), ref_model.location.position(torch.as_tensor(check)).numpy(), rtol=1e-6, atol=1e-6
    )

    res = train(cfg, PointData(lonlat, labels))
    fast = res.metrics["samples_per_second"]
    codes = np.array([classes.index(c) for c in labels])
    device = torch.device(args.device)
    ref_model.to(device)
    secs, seen = reference_loop(
        ref_model, lonlat, codes, freqs, args.epochs, args.batch_size, cfg.lr, args.seed, device
    )
    slow = seen / secs
    secs_dl, seen_dl = reference_dataloader_loop(
        ref_model, lonlat, codes, freqs, args.epochs, args.batch_size, cfg.lr, args.seed, device
    )
    slow_dl = seen_dl / secs_dl

    steps = interleaved_steps(
        ref_model, lonlat, codes, freqs, args.batch_size, cfg.lr, rounds=args.rounds, steps=args.steps, seed=args.seed
    )

    # where the time goes in the reference loop: the numpy encoding + copy alone, per batch
    idx = np.arange(args.batch_size)
    t0 = time.perf_counter()
    for _ in range(20):
        torch.FloatTensor(sphere_m_numpy(lonlat[idx], freqs))
    pe_ms = (time.perf_counter() - t0) / 20 * 1000
    ref_model.cpu()
    t0 = time.perf_counter()
    enc = ref_model.location.position
    for _ in range(20):
        enc(torch.as_tensor(lonlat[idx], dtype=torch.float32))
    pe_torch_ms = (time.perf_counter() - t0) / 20 * 1000

    extra = {}
    if args.torchspatial:
        ts_encode = torchspatial_encoder(args.torchspatial, args.frequency_num)
        ref_model.to(device)
        secs_ts, seen_ts = reference_loop(
            ref_model, lonlat, codes, freqs, args.epochs, args.batch_size, cfg.lr, args.seed, device, encode=ts_encode
        )
        t0 = time.perf_counter()
        for _ in range(20):
            ts_encode(lonlat[idx])
        extra = {
            "torchspatial_samples_per_s": round(seen_ts / secs_ts),
            "ratio_vs_torchspatial": round(fast / (seen_ts / secs_ts), 2),
            "torchspatial_encoding_ms_per_batch": round((time.perf_counter() - t0) / 20 * 1000, 2),
        }
        ref_model.cpu()

    out = {
        "points": args.points,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "encoder": f"sphereM S={args.frequency_num} ({5 * args.frequency_num} dims)",
        "net": f"ffn {args.hidden}→{max(args.hidden // 2, 1)}",
        "device": args.device,
        "geoenc_samples_per_s": round(fast),
        "reference_style_samples_per_s": round(slow),
        "ratio": round(fast / slow, 2),
        "reference_style_with_dataloader_samples_per_s": round(slow_dl),
        "ratio_vs_dataloader": round(fast / slow_dl, 2),
        **steps,
        "interleaved_ratio_wall": round(steps["reference_wall_ms_per_step"] / steps["geoenc_wall_ms_per_step"], 2),
        "interleaved_ratio_cpu": round(steps["reference_cpu_ms_per_step"] / steps["geoenc_cpu_ms_per_step"], 2),
        "numpy_encoding_ms_per_batch": round(pe_ms, 2),
        "torch_encoding_ms_per_batch": round(pe_torch_ms, 2),
        **extra,
    }
    print(json.dumps(out, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
