"""GPU figures for geoenc: encode throughput per encoder, training samples/s against a reference-style loop, DDP.

    python benchmarks/gpu_report.py --json gpu.json          # on a CUDA machine (about 5 minutes on one GPU)
    python benchmarks/gpu_report.py --dry-run                # anywhere: tiny sizes on the CPU, every code path

What it measures on ``cuda`` (the first GPU unless ``CUDA_VISIBLE_DEVICES`` says otherwise):

1. Encoding: every registered encoder (and ``sh`` at L = 40) on ``--points`` float64 points already on the GPU,
   float32 and bfloat16 output (bfloat16 is computed in float32 and rounded, so it only saves the write),
   points/s, median of ``--repeats`` synchronised runs; beside them the GPU's trig floor for sphereM (``sin`` +
   ``cos`` over the N × 2S phases) and ``encode_array`` from host numpy to host numpy (transfers included).
2. Training: ``geoenc.training.train`` (the engine of ``geoenc train``) on sphereM (S = 32) + FFN, batch 1,024
   and 8,192, AMP off and bf16, against the reference-style loop of ``train_speed.py``: the same net and AdamW,
   each batch's lon/lat encoded in float64 numpy on the CPU and copied to the GPU, as the TorchSpatial code does
   (target: geoenc ≥ 5× its samples/s). geoenc's figure includes its one-off encoding of the training set.
3. DDP: with more than one GPU, the same ``train`` under ``torchrun --nproc_per_node=<GPUs>`` (one process per
   GPU, batch 8,192 per process), samples/s over all processes.

``--dry-run`` runs every path on the CPU with tiny sizes (DDP with two gloo processes) and asserts nothing about
speed: it exists so that the script cannot rot (a test runs it). Never a dependency of the test suite otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # train_speed.py: the reference-style loop and its data

import train_speed  # noqa: E402

from geoenc.encoders import encoder_names, get_encoder  # noqa: E402
from geoenc.encoders.run import encode_array  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device, repeats: int) -> float:
    """Median wall seconds of ``fn`` over ``repeats`` synchronised runs, after one warm-up."""
    fn()
    sync(device)
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync(device)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


# ------------------------------------------------------------------------------------------------------------
# 1. encoding
# ------------------------------------------------------------------------------------------------------------


def encode_section(device: torch.device, n: int, repeats: int) -> dict:
    lonlat = train_speed.make_data(n, 10, seed=0)[0]
    x = torch.as_tensor(lonlat, device=device)  # float64 on the device
    rows = []
    cases = [(name, {}) for name in encoder_names()] + [("sh", {"degree": 40})]
    for name, params in cases:
        enc = get_encoder(name, **params)
        if enc.needs_fit:
            enc.fit(torch.as_tensor(lonlat), seed=0)
        enc.to(device)
        # the widest encoders get fewer points (the output is what limits them)
        m = min(n, max(1000, (2 << 30) // (4 * enc.embedding_dim)))
        xs = x[:m]
        row = {"encoder": name, "params": params, "dim": enc.embedding_dim, "points": m}
        with torch.inference_mode():
            for label, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
                secs = timed(lambda enc=enc, xs=xs, dtype=dtype: enc(xs, dtype=dtype), device, repeats)
                row[f"{label}_points_per_s"] = m / secs
        rows.append(row)
        print(f"encode {name:9s} {params!s:15s} {row['float32_points_per_s']:>15,.0f} pts/s (float32)", file=sys.stderr)
    # the trig floor of sphereM (S = 32: sin and cos of 64 phases per point) and the host-to-host path
    phases = torch.rand(n, 64, device=device) * 6.2 - 3.1
    floor = timed(lambda: (torch.sin(phases), torch.cos(phases)), device, repeats)
    enc = get_encoder("sphereM")
    host = timed(lambda: encode_array(enc, lonlat, device=device), device, repeats)
    return {
        "rows": rows,
        "sphereM_trig_floor_points_per_s": n / floor,
        "sphereM_encode_array_host_to_host_points_per_s": n / host,
    }


# ------------------------------------------------------------------------------------------------------------
# 2. training against the reference-style loop
# ------------------------------------------------------------------------------------------------------------


def training_config(batch: int, amp: str, epochs: int, device: str):
    from geoenc.training import TrainConfig

    return TrainConfig(
        method="sphereM",
        method_params={"frequency_num": 32, "min_radius": 0.001, "max_radius": 1.0},
        net="ffn",
        net_params={"hidden": 512, "out": 256},
        epochs=epochs,
        batch_size=batch,
        seed=0,
        device=device,
        amp=amp,
        lr_schedule="constant",
    )


def train_section(device: torch.device, n: int, epochs: int, batches: list[int]) -> list[dict]:
    from geoenc.encoders.base import geometric_frequencies
    from geoenc.models.location import build_model
    from geoenc.training import PointData, train

    lonlat, labels = train_speed.make_data(n, 100, seed=0)
    classes = sorted(set(labels))
    codes = np.array([classes.index(c) for c in labels])
    freqs = geometric_frequencies(32, 0.001, 1.0).numpy()
    data = PointData(lonlat, labels)
    dev = device.type
    train(training_config(batches[0], "off", 1, dev), PointData(lonlat[:5000], labels[:5000]))  # warm-up
    rows = []
    for batch in batches:
        for amp in ("off", "bf16"):
            res = train(training_config(batch, amp, epochs, dev), data)
            ours = res.metrics["samples_per_second"]
            torch.manual_seed(0)
            model = build_model(
                "sphereM", {"frequency_num": 32}, "ffn", {"hidden": 512, "out": 256}, "classification", len(classes)
            ).to(device)
            amp_dtype = torch.bfloat16 if amp == "bf16" else None
            secs, seen = train_speed.reference_loop(
                model, lonlat, codes, freqs, epochs, batch, 1e-3, 0, device, amp_dtype=amp_dtype
            )
            ref = seen / secs
            rows.append(
                {
                    "batch": batch,
                    "amp": amp,
                    "geoenc_samples_per_s": ours,
                    "reference_samples_per_s": ref,
                    "ratio": ours / ref,
                }
            )
            print(
                f"train batch {batch:5d} amp {amp:4s} geoenc {ours:>12,.0f} reference {ref:>12,.0f} samples/s "
                f"×{ours / ref:.1f}",
                file=sys.stderr,
            )
    return rows


# ------------------------------------------------------------------------------------------------------------
# 3. DDP
# ------------------------------------------------------------------------------------------------------------


def ddp_worker(args: argparse.Namespace) -> None:
    """One torchrun process: train on the shared data; rank 0 writes samples/s over all processes."""
    from geoenc.training import PointData, train

    lonlat, labels = train_speed.make_data(args.points, 100, seed=0)
    device = "cuda" if torch.cuda.is_available() and not args.dry_run else "cpu"
    res = train(
        training_config(args.batch_size, "bf16" if device == "cuda" else "off", args.epochs, device),
        PointData(lonlat, labels),
    )
    if int(os.environ.get("RANK", "0")) == 0:
        Path(args.out).write_text(json.dumps({"samples_per_second": res.metrics["samples_per_second"]}))


def ddp_section(procs: int, n: int, epochs: int, batch: int, dry_run: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ddp.json"
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
            str(Path(__file__).resolve()), "--ddp-worker", "--out", str(out),
            "--points", str(n), "--epochs", str(epochs), "--batch-size", str(batch),
        ]  # fmt: skip
        if dry_run:
            cmd.append("--dry-run")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
        t = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=sys.stderr)
        wall = time.perf_counter() - t
        res = json.loads(out.read_text())
    return {
        "processes": procs,
        "batch_per_process": batch,
        "samples_per_second": res["samples_per_second"],
        "wall_s_with_startup": wall,
    }


# ------------------------------------------------------------------------------------------------------------


def markdown(r: dict) -> str:
    lines = [
        f"{r['device']} · torch {r['torch']} · {r['when']}" + (" · DRY RUN (no figures)" if r["dry_run"] else ""),
        "",
    ]
    e = r["encode"]
    lines += [
        "| encoder | params | D | points | float32 (points/s) | bfloat16 (points/s) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in e["rows"]:
        p = ", ".join(f"{k}={v}" for k, v in row["params"].items()) or "defaults"
        lines.append(
            f"| {row['encoder']} | {p} | {row['dim']:,} | {row['points']:,} | "
            f"{row['float32_points_per_s']:,.0f} | {row['bfloat16_points_per_s']:,.0f} |"
        )
    lines += [
        "",
        f"sphereM trig floor (sin + cos of 64 phases per point): {e['sphereM_trig_floor_points_per_s']:,.0f} "
        f"points/s; encode_array host → GPU → host: {e['sphereM_encode_array_host_to_host_points_per_s']:,.0f} "
        "points/s",
        "",
    ]
    lines += [
        "| batch | AMP | geoenc train (samples/s) | reference loop (samples/s) | ratio |",
        "|---:|---|---:|---:|---:|",
    ]
    for row in r["train"]:
        lines.append(
            f"| {row['batch']:,} | {row['amp']} | {row['geoenc_samples_per_s']:,.0f} | "
            f"{row['reference_samples_per_s']:,.0f} | **{row['ratio']:.1f}×** |"
        )
    if r.get("ddp"):
        d = r["ddp"]
        lines += [
            "",
            f"DDP: {d['processes']} processes × batch {d['batch_per_process']:,}: "
            f"{d['samples_per_second']:,.0f} samples/s",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU: run every path, measure nothing")
    ap.add_argument("--points", type=int, default=None, help="points to encode (default 1,000,000; dry run 200)")
    ap.add_argument("--train-points", type=int, default=None, help="training points (default 1,000,000)")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 3; dry run 1)")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5; dry run 1)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--no-ddp", action="store_true")
    # internal: one torchrun worker
    ap.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, default=8192, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    dry = args.dry_run
    if args.ddp_worker:
        ddp_worker(args)
        return 0
    if not dry and not torch.cuda.is_available():
        print("no CUDA device: run with --dry-run to check the script, or on a GPU machine", file=sys.stderr)
        return 2
    device = torch.device("cpu" if dry else "cuda")
    if dry:
        torch.set_num_threads(1)
    n = args.points or (200 if dry else 1_000_000)
    n_train = args.train_points or (600 if dry else 1_000_000)
    epochs = args.epochs or (1 if dry else 3)
    repeats = args.repeats or (1 if dry else 5)
    batches = [64, 256] if dry else [1024, 8192]
    report = {
        "dry_run": dry,
        "torch": torch.__version__,
        "device": "CPU (dry run)" if dry else torch.cuda.get_device_name(0),
        "gpus": 0 if dry else torch.cuda.device_count(),
        "host": platform.node(),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    report["encode"] = encode_section(device, n, repeats)
    report["train"] = train_section(device, n_train, epochs, batches)
    procs = 2 if dry else report["gpus"]
    if procs > 1 and not args.no_ddp:
        report["ddp"] = ddp_section(procs, n_train, epochs, batches[-1], dry)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
