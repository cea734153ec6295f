"""Encoding speed of what users call, against this machine's floors and against TorchSpatial's own classes.

    python benchmarks/encode_speed.py                        # sphereM S=32, 1M points, 1 thread: floors, API, CLI
    python benchmarks/encode_speed.py --all                  # + every encoder through geoenc.encode
    python benchmarks/encode_speed.py --torchspatial PATH    # + batch-1,024 ratios against TorchSpatial's classes
    python benchmarks/encode_speed.py --markdown --json out.json --repeats 5

Everything runs on the CPU with ``--threads`` torch threads (default 1). Each figure is the median of
``--repeats`` runs, interleaved so that all see the same load; CPU time of the process (user + system, so page
faults count) and wall time are both reported, and the load average is printed beside them.

Floors, for sphereM at S = ``--frequency-num`` (its formula needs sin and cos of 2S phases per point):

* trig (blocked): ``torch.sin`` + ``torch.cos`` over the N × 2S float32 phases (in [−π, π]) in cache-sized blocks
  into preallocated outputs — the arithmetic alone, the strict floor;
* trig (bare): one ``torch.sin`` and one ``torch.cos`` call over the whole N × 2S array, as the encoder issue
  measured its floor (fresh outputs, so their page faults count);
* output: allocating the (N, D) float32 result the way ``encode_array`` does and writing it once: what any
  encoder that returns a new array pays.

What users call: ``geoenc.encode(lonlat, "sphereM", device="cpu")`` on float64 points, and the ``geoenc encode``
command (Parquet → Parquet) in a child process: its wall time on N points and on 1,000 points (start-up and
fixed costs), and, run in this process, the time its encode stage spends in ``encode_array``.

``--torchspatial PATH`` points at a checkout of seai-lab/TorchSpatial (its ``main/`` folder holds
``SpatialRelationEncoder.py``); nothing of it is copied here. Each encoder is called the way a training step
calls it, on a float32 batch of ``--batch`` points: TorchSpatial's position-encoder class on the batch as a
(B, 1, 2) numpy array (as its models pass it), geoenc's encoder on the tensor; the median per-call CPU times
(of this thread, so that other jobs on a shared machine disturb them little) of interleaved rounds give the
ratio. ``geoclip`` has no TorchSpatial class: it is compared with GeoCLIP's own position code when the
``geoclip`` package is installed (``pip install --no-deps geoclip``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import geoenc
from geoenc.encoders import encoder_names, get_encoder
from geoenc.encoders.run import empty_array, tune_allocator

# ------------------------------------------------------------------------------------------------------------
# timing helpers
# ------------------------------------------------------------------------------------------------------------


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (process user + system, so that page faults count) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def medians(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, dict[str, float]]:
    """Run every function ``repeats`` times, interleaved; median wall and CPU seconds of each."""
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            runs[k].append(timed(fn))
    return {
        k: {"wall": statistics.median(w for w, _ in v), "cpu": statistics.median(c for _, c in v)}
        for k, v in runs.items()
    }


def random_lonlat(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack((rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))))


# ------------------------------------------------------------------------------------------------------------
# floors
# ------------------------------------------------------------------------------------------------------------


def floor_functions(n: int, s: int, dim: int, block: int = 4096) -> dict[str, Callable[[], object]]:
    g = torch.Generator().manual_seed(0)
    phases = torch.rand(block, 2 * s, generator=g) * (2 * math.pi) - math.pi
    sin_out, cos_out = torch.empty_like(phases), torch.empty_like(phases)
    full: list[torch.Tensor] = []

    def trig_blocked() -> None:
        for i in range(0, n, block):
            rows = min(block, n - i)
            torch.sin(phases[:rows], out=sin_out[:rows])
            torch.cos(phases[:rows], out=cos_out[:rows])

    def trig_bare() -> None:
        if not full:  # the (N, 2S) phases, made once outside the timing loop's first call
            full.append(torch.rand(n, 2 * s, generator=g) * (2 * math.pi) - math.pi)
        torch.sin(full[0])
        torch.cos(full[0])

    def output() -> None:
        empty_array((n, dim), np.float32).fill(1.0)

    trig_bare()  # build the phases before timing
    return {"trig (blocked)": trig_blocked, "trig (bare)": trig_bare, "output write": output}


# ------------------------------------------------------------------------------------------------------------
# the command line
# ------------------------------------------------------------------------------------------------------------


def write_points(path: Path, n: int, seed: int = 0) -> None:
    import pyarrow as pa

    from geoenc.io import PointWriter

    pts = random_lonlat(n, seed)
    with PointWriter(path, overwrite=True) as w:
        w.write(pts[:, 0], pts[:, 1], pa.table({"id": np.arange(n, dtype=np.int64)}))


def cli_wall(src: Path, dst: Path, threads: int, method: str, params: list[str]) -> float:
    cmd = [sys.executable, "-m", "geoenc", "--threads", str(threads), "encode", str(src), "-m", method]
    for p in params:
        cmd += ["-p", p]
    cmd += ["-o", str(dst), "--overwrite", "--quiet", "--device", "cpu"]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return time.perf_counter() - t


def encode_stage_seconds(src: Path, dst: Path, method: str, params: dict) -> tuple[float, float, float]:
    """Run the command's pipeline (``encode_file``) here; return its wall seconds and the wall and CPU seconds
    spent inside ``encode_array`` (the encode stage, without reading and writing)."""
    import geoenc.encoders.run as run_mod
    import geoenc.workflows.encode as encoding_mod

    spent = [0.0, 0.0]
    original = run_mod.encode_array

    def timed_encode_array(*args, **kwargs):
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - w0
            spent[1] += time.process_time() - c0

    encoding_mod.encode_array = timed_encode_array
    try:
        t = time.perf_counter()
        geoenc.encode_file(src, dst, method, params, device="cpu", overwrite=True)
        return time.perf_counter() - t, spent[0], spent[1]
    finally:
        encoding_mod.encode_array = original


# ------------------------------------------------------------------------------------------------------------
# TorchSpatial's classes (imported at run time from the user's checkout)
# ------------------------------------------------------------------------------------------------------------


def torchspatial_classes(path: str, train_locs: np.ndarray) -> dict[str, Callable[[], object]]:
    """Builders of TorchSpatial's position encoders at geoenc's defaults, by geoenc name."""
    sys.path.insert(0, os.path.join(path, "main"))
    import SpatialRelationEncoder as S

    globe = (-180.0, 180.0, -90.0, 90.0)
    sphere = {"frequency_num": 32, "max_radius": 1.0, "min_radius": 0.001, "device": "cpu"}
    grid = {"frequency_num": 32, "max_radius": 360.0, "min_radius": 0.01, "device": "cpu"}
    wrap = lambda: S.AodhaFFTSpatialRelationPositionEncoder(  # noqa: E731
        extent=globe, do_pos_enc=True, do_global_pos_enc=True, device="cpu"
    )
    return {
        "tile": lambda: S.GridLookupSpatialRelationPositionEncoder(spa_embed_dim=64, interval=1.0, device="cpu"),
        "wrap": wrap,
        "wrap_ffn": wrap,
        "rbf": lambda: S.RBFSpatialRelationPositionEncoder(
            model_type="global", train_locs=train_locs, num_rbf_anchor_pts=200, rbf_kernel_size=1.0, device="cpu"
        ),
        "rff": lambda: S.RFFSpatialRelationPositionEncoder(
            frequency_num=256, rbf_kernel_size=64.0, extent=globe, device="cpu"
        ),
        "grid": lambda: S.GridCellSpatialRelationPositionEncoder(**grid),
        "theory": lambda: S.TheoryGridCellSpatialRelationPositionEncoder(**grid),
        "xyz": lambda: S.XYZSpatialRelationPositionEncoder(device="cpu"),
        "nerf": lambda: S.NERFSpatialRelationPositionEncoder(frequency_num=16, device="cpu"),
        "sphereC": lambda: S.SphereSpatialRelationPositionEncoder(**sphere),
        "sphereC+": lambda: S.SphereGirdSpatialRelationPositionEncoder(**sphere),
        "sphereM": lambda: S.SphereMixScaleSpatialRelationPositionEncoder(**sphere),
        "sphereM+": lambda: S.SphereGridMixScaleSpatialRelationPositionEncoder(**sphere),
        "dfs": lambda: S.DFTSpatialRelationPositionEncoder(**sphere),
        "sh": lambda: S.SphericalHarmonicsSpatialRelationPositionEncoder(legendre_poly_num=10, device="cpu"),
    }


def geoclip_reference() -> Callable[[torch.Tensor], torch.Tensor] | None:
    """GeoCLIP's own position code (Equal Earth + its three Gaussian encodings), loaded from the installed
    ``geoclip`` package without running its ``__init__`` (which pulls in the image model)."""
    spec = importlib.util.find_spec("geoclip")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(spec.submodule_search_locations[0]) / "model"
    for name, where in (("geoclip", root.parent), ("geoclip.model", root)):
        mod = types.ModuleType(name)
        mod.__path__ = [str(where)]
        sys.modules.setdefault(name, mod)
    try:
        from geoclip.model.location_encoder import equal_earth_projection
        from geoclip.model.rff import GaussianEncoding
    except (ImportError, AttributeError):  # an incompatible release
        return None
    torch.manual_seed(0)
    layers = [GaussianEncoding(sigma=s, input_size=2, encoded_size=256) for s in (2**0, 2**4, 2**8)]

    def encode(lonlat: torch.Tensor) -> torch.Tensor:
        e = equal_earth_projection(lonlat.flip(1))  # GeoCLIP takes (lat, lon)
        return torch.cat([layer(e) for layer in layers], dim=1)

    return encode


def batch_ratios(path: str, batch: int, rounds: int, calls: int, only: list[str] | None = None) -> list[dict]:
    pts = random_lonlat(batch, seed=1)
    train = random_lonlat(20_000, seed=2)
    x32 = torch.as_tensor(pts, dtype=torch.float32)
    builders = torchspatial_classes(path, train)
    rows = []
    for name in encoder_names():
        if only and name not in only:
            continue
        enc = get_encoder(name)
        if enc.needs_fit:
            enc.fit(torch.as_tensor(train), seed=0)
        ours = lambda enc=enc: enc(x32)  # noqa: E731 - a training step's call
        theirs = None
        source = "TorchSpatial"
        if name in builders:
            try:
                ts = builders[name]()
                ts(x32.unsqueeze(1).numpy().copy())
                theirs = lambda ts=ts: ts(x32.unsqueeze(1).cpu().data.numpy().copy())  # noqa: E731 - as its models do
            except (NameError, ImportError, AttributeError, TypeError) as e:  # its SH helper is missing from the repo
                source = f"TorchSpatial fails: {type(e).__name__}: {str(e)[:60]}"
        elif name == "geoclip":
            ref = geoclip_reference()
            source = "GeoCLIP package" if ref else "no reference available"
            if ref is not None:
                theirs = lambda ref=ref: ref(x32)  # noqa: E731
        else:
            source = "no TorchSpatial class"
        with torch.no_grad():
            fns = {"geoenc": ours} if theirs is None else {"geoenc": ours, "reference": theirs}
            for fn in fns.values():
                fn()
            per_call = {k: [] for k in fns}
            for _ in range(rounds):
                for k, fn in fns.items():
                    t = time.thread_time()  # CPU time of this thread: far less disturbed by other jobs than wall time
                    for _ in range(calls):
                        fn()
                    per_call[k].append((time.thread_time() - t) / calls)
        med = {k: statistics.median(v) for k, v in per_call.items()}
        row = {"encoder": name, "reference": source, "geoenc_ms": med["geoenc"] * 1e3}
        if "reference" in med:
            row["reference_ms"] = med["reference"] * 1e3
            row["ratio"] = med["reference"] / med["geoenc"]
        rows.append(row)
        print(
            f"batch {batch} {name:9s} geoenc {row['geoenc_ms']:8.3f} ms  "
            + (f"{source} {row['reference_ms']:8.3f} ms  ×{row['ratio']:.1f}" if "ratio" in row else source),
            file=sys.stderr,
        )
    return rows


# ------------------------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------------------------

ALL_CASES: list[tuple[str, dict]] = [(n, {}) for n in encoder_names()] + [("sh", {"degree": 40})]
#: fewer points for the slowest encoders (points/s is what is compared)
SLOW_POINTS = {"dfs": 100_000, "geoclip": 200_000, "rbf": 500_000}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--frequency-num", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--all", action="store_true", help="also every encoder through geoenc.encode")
    ap.add_argument("--no-cli", action="store_true", help="skip the command-line measurement")
    ap.add_argument("--torchspatial", metavar="PATH", help="a checkout of seai-lab/TorchSpatial: batch ratios")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds of the batch comparison")
    ap.add_argument("--calls", type=int, default=20, help="calls per round in the batch comparison")
    ap.add_argument("--only", nargs="*", help="encoders for --all and --torchspatial (default: all)")
    ap.add_argument("--no-headline", action="store_true", help="skip the sphereM floors / API / CLI section")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", help="write every figure here")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    tune_allocator()  # what encode_array does on its first call, done before any timing
    n, s = args.points, args.frequency_num
    params = {"frequency_num": s}
    dim = get_encoder("sphereM", **params).embedding_dim
    pts = random_lonlat(n)
    report: dict = {
        "torch": torch.__version__,
        "threads": args.threads,
        "points": n,
        "repeats": args.repeats,
        "load_before": load(),
    }

    if not args.no_headline:
        # floors and the Python API, interleaved ------------------------------------------------------------
        geoenc.encode(pts[:10_000], "sphereM", device="cpu", **params)  # warm-up
        fns = floor_functions(n, s, dim)
        fns["geoenc.encode"] = lambda: geoenc.encode(pts, "sphereM", device="cpu", **params)
        res = medians(fns, args.repeats)
        report["sphereM"] = {
            k: {**v, "points_per_cpu_s": n / v["cpu"], "points_per_s": n / v["wall"]} for k, v in res.items()
        }
        api = res["geoenc.encode"]
        for floor in ("trig (blocked)", "trig (bare)", "output write"):
            report["sphereM"]["geoenc.encode"][f"pct_of_{floor}"] = 100 * res[floor]["cpu"] / api["cpu"]
        report["load_after_api"] = load()
        for k, v in report["sphereM"].items():
            print(
                f"{k:16s} {v['points_per_cpu_s']:>13,.0f} pts/CPU-s {v['points_per_s']:>13,.0f} pts/s", file=sys.stderr
            )

        # the command line -------------------------------------------------------------------------------------
        if not args.no_cli:
            with tempfile.TemporaryDirectory() as tmp:
                big, small, dst = Path(tmp) / "big.parquet", Path(tmp) / "small.parquet", Path(tmp) / "out.parquet"
                write_points(big, n)
                write_points(small, 1000)
                p = [f"frequency_num={s}"]
                walls_big, walls_small, stages = [], [], []
                for _ in range(max(1, args.repeats // 2)):
                    walls_small.append(cli_wall(small, dst, args.threads, "sphereM", p))
                    walls_big.append(cli_wall(big, dst, args.threads, "sphereM", p))
                    stages.append(encode_stage_seconds(big, dst, "sphereM", params))
                t_big, t_small = statistics.median(walls_big), statistics.median(walls_small)
                stage_wall = statistics.median(x[1] for x in stages)
                stage_cpu = statistics.median(x[2] for x in stages)
                report["cli"] = {
                    "wall_s": t_big,
                    "wall_s_1000_points": t_small,
                    "points_per_s": n / t_big,
                    "marginal_points_per_s": (n - 1000) / max(1e-9, t_big - t_small),
                    "in_process_pipeline_s": statistics.median(x[0] for x in stages),
                    "encode_stage_wall_s": stage_wall,
                    "encode_stage_cpu_s": stage_cpu,
                    "encode_stage_points_per_cpu_s": n / stage_cpu,
                    "encode_stage_pct_of_trig_blocked": 100 * res["trig (blocked)"]["cpu"] / stage_cpu,
                    "encode_stage_pct_of_trig_bare": 100 * res["trig (bare)"]["cpu"] / stage_cpu,
                    "load_after": load(),
                }
                c = report["cli"]
                stage = c["encode_stage_points_per_cpu_s"]
                print(
                    f"geoenc encode: {c['wall_s']:.2f} s wall for {n:,} points "
                    f"({c['wall_s_1000_points']:.2f} s for 1,000); encode stage {stage:,.0f} pts/CPU-s",
                    file=sys.stderr,
                )

    # every encoder ----------------------------------------------------------------------------------------
    if args.all:
        report["encoders"] = []
        for name, p in ALL_CASES:
            if args.only and name not in args.only:
                continue
            m = min(n, SLOW_POINTS.get(name, n), 50_000 if p.get("degree", 0) > 20 else n)
            sub = pts[:m]
            geoenc.encode(sub[:2000], name, device="cpu", **p)
            api = lambda sub=sub, name=name, p=p: geoenc.encode(sub, name, device="cpu", **p)  # noqa: E731
            r = medians({"api": api}, args.repeats)["api"]
            row = {"encoder": name, "params": p, "dim": get_encoder(name, **p).embedding_dim, "points": m}
            row.update(points_per_cpu_s=m / r["cpu"], points_per_s=m / r["wall"], load=load())
            report["encoders"].append(row)
            print(f"{name:9s} {p!s:15s} {row['points_per_cpu_s']:>13,.0f} pts/CPU-s", file=sys.stderr)

    if args.torchspatial:
        report["batch"] = {
            "size": args.batch,
            "rows": batch_ratios(args.torchspatial, args.batch, args.rounds, args.calls, args.only),
        }
        report["load_after_batch"] = load()

    report["load_after"] = load()
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    if args.markdown:
        print_markdown(report)
    return 0


def print_markdown(r: dict) -> None:
    n = r["points"]
    print(
        f"torch {r['torch']}, {r['threads']} thread(s), {n:,} points, median of {r['repeats']}; "
        f"load average {r['load_before']} before, {r['load_after']} after\n"
    )
    print("| sphereM, S = 32 | points per CPU-second | points per second (wall) | geoenc.encode as % of it (CPU) |")
    print("|---|---:|---:|---:|")
    api = r.get("sphereM", {}).get("geoenc.encode", {})
    for k, v in r.get("sphereM", {}).items():
        pct = "" if k == "geoenc.encode" else f"{api[f'pct_of_{k}']:.0f} %"
        print(f"| {k} | {v['points_per_cpu_s']:,.0f} | {v['points_per_s']:,.0f} | {pct} |")
    if "cli" in r:
        c = r["cli"]
        print(
            f"\n`geoenc encode` (Parquet → Parquet, {n:,} points): {c['wall_s']:.2f} s wall "
            f"({c['points_per_s']:,.0f} points/s; {c['wall_s_1000_points']:.2f} s for 1,000 points); in this "
            f"process the pipeline took {c['in_process_pipeline_s']:.2f} s, of which the encode stage "
            f"{c['encode_stage_cpu_s']:.3f} CPU-s ({c['encode_stage_points_per_cpu_s']:,.0f} points per CPU-second: "
            f"{c['encode_stage_pct_of_trig_blocked']:.0f} % of the blocked trig floor, "
            f"{c['encode_stage_pct_of_trig_bare']:.0f} % of the bare one)."
        )
    if "encoders" in r:
        print("\n| encoder | params | D | points | points per CPU-second | points per second (wall) |")
        print("|---|---|---:|---:|---:|---:|")
        for row in r["encoders"]:
            p = ", ".join(f"{k}={v}" for k, v in row["params"].items()) or "defaults"
            print(
                f"| {row['encoder']} | {p} | {row['dim']:,} | {row['points']:,} | {row['points_per_cpu_s']:,.0f} | "
                f"{row['points_per_s']:,.0f} |"
            )
    if "batch" in r:
        print(f"\n| encoder | batch {r['batch']['size']:,}: geoenc (CPU ms) | reference (CPU ms) | ratio | reference |")
        print("|---|---:|---:|---:|---|")
        for row in r["batch"]["rows"]:
            ref = f"{row['reference_ms']:.3f}" if "reference_ms" in row else "—"
            ratio = f"**{row['ratio']:.1f}×**" if "ratio" in row else "—"
            print(f"| {row['encoder']} | {row['geoenc_ms']:.3f} | {ref} | {ratio} | {row['reference']} |")


if __name__ == "__main__":
    raise SystemExit(main())
