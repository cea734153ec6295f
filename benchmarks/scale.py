"""Past one machine: encode a partitioned dataset and score SSI on Dask workers vs in one process.

    python benchmarks/scale.py encode   [--rows 10000000] [--partitions 20] [--method sphereM] [--repeats 3]
    python benchmarks/scale.py overhead [--tasks 200] [--repeats 3]
    python benchmarks/scale.py ssi      [--points 1000000] [--centres 20000] [--repeats 3]

encode: the same dataset (``--rows`` uniform points on the sphere in ``--partitions`` GeoParquet files) encoded
by ``encode_dataset`` in this process (the local engine: one partition after the other) and on a
``LocalCluster`` of 2 single-threaded worker processes; wall time (the cluster's start-up reported apart),
peak RSS of this process and of each worker (``ru_maxrss``; a fresh cluster per repeat), and whether the outputs
are byte-identical.

overhead: ``--tasks`` partitions of 100 points each (xyz): what one task costs on Dask beyond the local loop,
with the cluster already up (``(T_dask − T_local) / tasks``, and ``T_dask / tasks``), and the wall time per
task of tasks that do nothing (Dask's own cost per task on this machine).

ssi: SSI (unmarked and marked, radius 318.55 km, k = 400) at ``--centres`` centres of ``--points`` points —
a fixed random subset of the low-performance centres, so the run fits this machine; the per-centre times
scale to the full set — in one process, and on 1 and 2 Dask workers (the point set shared once per worker).

Every figure is the median of ``--repeats`` runs; the 1-minute load average is printed with each. Run it under
``nice`` on a shared machine. Nothing here is asserted: the numbers go to docs/scale.md.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import resource
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from geoenc.io import write_points
from geoenc.workflows.dataset import encode_dataset
from geoenc.workflows.distributed import DaskMapper


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM; ``ru_maxrss`` would carry a forking parent's peak over)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s() -> float:
    """CPU seconds (user + system) this process has used: with the machine shared, wall time says how busy the
    others were, CPU time per point says what the work costs."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def reset_peak() -> None:
    """Start this process's peak-memory count afresh (Linux: ``5`` to /proc/self/clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def make_dataset(folder: Path, rows: int, parts: int, seed: int = 0) -> None:
    if folder.exists() and len(list(folder.glob("*.parquet"))) == parts:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    per = rows // parts
    for i in range(parts):
        n = per if i < parts - 1 else rows - per * (parts - 1)
        lon = rng.uniform(-180, 180, n)
        lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
        ids = np.arange(i * per, i * per + n, dtype=np.int64)
        write_points(folder / f"part-{i:03d}.parquet", lon, lat, pa.table({"id": ids}))


def cluster(n: int):
    import distributed

    t = time.perf_counter()
    c = distributed.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(c, set_as_default=False)
    return c, client, time.perf_counter() - t


def worker_peak_mb(client) -> list[float]:
    return sorted(round(v) for v in client.run(peak_mb).values())


def cluster_cpu_s(client) -> float:
    """CPU seconds used so far by the workers, the scheduler and this process (the client and the nannies)."""
    here = cpu_s()
    same = client.run_on_scheduler(os.getpid) == os.getpid()  # a LocalCluster's scheduler runs in this process
    return sum(client.run(cpu_s).values()) + (0.0 if same else client.run_on_scheduler(cpu_s)) + here


def same_bytes(a: Path, b: Path) -> bool:
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return fa == fb and all((a / f).read_bytes() == (b / f).read_bytes() for f in fa)


def bench_encode(args) -> None:
    work = Path(args.workdir)
    src = work / f"ds_{args.rows}_{args.partitions}"
    make_dataset(src, args.rows, args.partitions)
    params = dict(kv.split("=", 1) for kv in args.param)
    out_local, out_dask, out_warm = work / "out_local", work / "out_dask", work / "out_warm"
    local_t, cold_t, warm_t, start_t, local_mem, worker_mem, client_mem = [], [], [], [], [], [], []
    local_cpu, warm_cpu = [], []
    for r in range(args.repeats):
        shutil.rmtree(out_local, ignore_errors=True)
        reset_peak()
        t, c0 = time.perf_counter(), cpu_s()
        res = encode_dataset(src, out_local, args.method, params, device="cpu")
        local_t.append(time.perf_counter() - t)
        local_cpu.append(cpu_s() - c0)
        local_mem.append(round(peak_mb()))
        print(
            f"[{r}] local: {local_t[-1]:.1f} s ({local_cpu[-1]:.1f} CPU s), {res.rows:,} rows, peak "
            f"{local_mem[-1]} MB, {load()}",
            flush=True,
        )
        for d in (out_dask, out_warm):
            shutil.rmtree(d, ignore_errors=True)
        c, client, started = cluster(2)
        try:
            mapper = DaskMapper(client)
            reset_peak()
            t = time.perf_counter()  # cold: the first task on each worker imports torch and geoenc
            encode_dataset(src, out_dask, args.method, params, device="cpu", mapper=mapper)
            cold_t.append(time.perf_counter() - t)
            t, c0 = time.perf_counter(), cluster_cpu_s(client)  # warm: the same cluster again
            encode_dataset(src, out_warm, args.method, params, device="cpu", mapper=mapper)
            warm_t.append(time.perf_counter() - t)
            warm_cpu.append(cluster_cpu_s(client) - c0)
            start_t.append(started)
            worker_mem.append(worker_peak_mb(client))
            client_mem.append(round(peak_mb()))
        finally:
            client.close()
            c.close()
        print(
            f"[{r}] dask 2 workers: cold {cold_t[-1]:.1f} s, warm {warm_t[-1]:.1f} s ({warm_cpu[-1]:.1f} CPU s) "
            f"(+ {started:.1f} s start), {load()}",
            flush=True,
        )
    med = statistics.median
    print(f"dataset: {args.rows:,} points in {args.partitions} partitions, {args.method} {params}")
    print(f"local engine (one process):   median {med(local_t):.1f} s  runs {[round(x, 1) for x in local_t]}")
    print(f"dask 2 workers, cold cluster: median {med(cold_t):.1f} s  runs {[round(x, 1) for x in cold_t]}")
    print(f"dask 2 workers, warm cluster: median {med(warm_t):.1f} s  runs {[round(x, 1) for x in warm_t]}")
    print(f"cluster start-up:             median {med(start_t):.1f} s")
    print(f"speed-up local / dask warm:   {med(local_t) / med(warm_t):.2f}")
    mp = args.rows / 1e6
    lc, wc = med(local_cpu) / mp, med(warm_cpu) / mp
    print(f"CPU per million points: local {lc:.2f} s; dask warm, all processes {wc:.2f} s")
    print(f"peak RSS (MB): local run {local_mem}; dask client {client_mem}; workers per repeat {worker_mem}")
    print(f"outputs byte-identical: {same_bytes(out_local, out_dask) and same_bytes(out_local, out_warm)}")


def _noop(shared, item):
    return item


def bench_overhead(args) -> None:
    work = Path(args.workdir)
    src = work / f"tiny_{args.tasks}"
    make_dataset(src, 100 * args.tasks, args.tasks)
    c, client, _ = cluster(2)
    local_t, dask_t, noop_t = [], [], []
    try:
        mapper = DaskMapper(client)
        encode_dataset(src, work / "warm", "xyz", device="cpu", mapper=mapper, overwrite=True)  # imports on workers
        noop_cpu = []
        for r in range(args.repeats):
            t, c0 = time.perf_counter(), cluster_cpu_s(client)
            list(mapper(_noop, None, list(range(args.tasks))))
            noop_t.append(time.perf_counter() - t)
            noop_cpu.append(cluster_cpu_s(client) - c0)
            t = time.perf_counter()
            encode_dataset(src, work / "tiny_local", "xyz", device="cpu", overwrite=True)
            local_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            encode_dataset(src, work / "tiny_dask", "xyz", device="cpu", mapper=mapper, overwrite=True)
            dask_t.append(time.perf_counter() - t)
            print(f"[{r}] local {local_t[-1]:.2f} s, dask {dask_t[-1]:.2f} s, {load()}", flush=True)
    finally:
        client.close()
        c.close()
    tl, td = statistics.median(local_t), statistics.median(dask_t)
    print(f"{args.tasks} partitions of 100 points (xyz), cluster up: local {tl:.2f} s, dask (2 workers) {td:.2f} s")
    print(f"per partition: local {1000 * tl / args.tasks:.1f} ms; dask wall per task {1000 * td / args.tasks:.1f} ms")
    print(f"dask cost beyond the local loop: {1000 * (td - tl) / args.tasks:.1f} ms per task (2 workers in parallel)")
    noop, noop_c = (1000 * statistics.median(x) / args.tasks for x in (noop_t, noop_cpu))
    print(f"a task that does nothing: {noop:.1f} ms wall per task (2 workers), {noop_c:.1f} ms CPU per task (all)")


def bench_ssi(args) -> None:
    from geoenc.metrics.ssi import ssi_scores

    rng = np.random.default_rng(0)
    n = args.points
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    bad = rng.uniform(size=n) < 0.15 + 0.5 * (lat > 30)
    low = np.flatnonzero(bad)
    centres = np.zeros(n, dtype=bool)
    centres[rng.choice(low, size=min(args.centres, low.size), replace=False)] = True
    from geoenc.metrics.ssi import BATCHES_PER_TASK

    k = int(centres.sum())
    tasks = math.ceil(math.ceil(k / 64) / BATCHES_PER_TASK)
    print(f"{n:,} points, {low.size:,} low-performance; timing {k:,} of them as centres ({tasks} Dask tasks)")
    print("one process: n_jobs=1, but its k-d tree queries use every core (scipy workers=-1); Dask tasks use one")
    times: dict[str, list[float]] = {"one process": [], "dask 1 worker": [], "dask 2 workers": []}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    ref = None
    for r in range(args.repeats):
        t, c0 = time.perf_counter(), cpu_s()
        ref = ssi_scores(lon, lat, bad, centres=centres)
        times["one process"].append(time.perf_counter() - t)
        cpu["one process"].append(cpu_s() - c0)
        print(f"[{r}] one process {times['one process'][-1]:.1f} s, {load()}", flush=True)
        for w in (1, 2):
            c, client, _ = cluster(w)
            try:
                mapper = DaskMapper(client)
                name = f"dask {w} worker{'s' if w > 1 else ''}"
                t, c0 = time.perf_counter(), cluster_cpu_s(client)
                got = ssi_scores(lon, lat, bad, centres=centres, mapper=mapper)
                times[name].append(time.perf_counter() - t)
                cpu[name].append(cluster_cpu_s(client) - c0)
            finally:
                client.close()
                c.close()
            same = np.array_equal(got.marked, ref.marked, equal_nan=True) and np.array_equal(
                got.unmarked, ref.unmarked, equal_nan=True
            )
            print(
                f"[{r}] dask {w} worker(s) {list(times.values())[w][-1]:.1f} s, identical={same}, {load()}", flush=True
            )
    for name, ts in times.items():
        med, c = statistics.median(ts), statistics.median(cpu[name])
        print(
            f"{name:15s} median {med:.1f} s = {1000 * med / k:.2f} ms wall per centre, {1000 * c / k:.2f} ms CPU per "
            f"centre (all processes)  runs {[round(x, 1) for x in ts]}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("encode", "overhead", "ssi"))
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--partitions", type=int, default=20)
    ap.add_argument("--method", default="sphereM")
    ap.add_argument("-p", "--param", action="append", default=[])
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--centres", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/geoenc-scale")
    args = ap.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    print(f"start: {load()}, {os.cpu_count()} CPU cores", flush=True)
    {"encode": bench_encode, "overhead": bench_overhead, "ssi": bench_ssi}[args.what](args)


if __name__ == "__main__":
    main()
