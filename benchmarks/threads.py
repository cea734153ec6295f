"""How many CPU threads geoenc should use by default: a small-net training run and an encode, each at 1 … N threads,
and with geoenc's default (no --threads), on an otherwise idle machine and beside busy competitors (one per core,
like another job sharing the machine).

Each configuration runs the real CLI (`geoenc --threads T …`) REPEATS times in a fresh process, interleaved so
that load drifts hit every configuration alike; prints the median wall time and its ratio to 1 thread.

    python benchmarks/threads.py --repeats 3
    python benchmarks/threads.py --repeats 3 --competitors 0      # only the idle case
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "cities_train.parquet"


def _spin(stop: mp.synchronize.Event) -> None:  # a competitor: one busy core
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def _jobs(tmp: Path, points: Path) -> dict[str, list[str]]:
    return {
        # the tutorial's shape: a small FFN on ~27k points, a few epochs
        "train (default model), 27k points, 3 epochs": [
            "train",
            str(SAMPLE),
            "--label",
            "country",
            "--epochs",
            "3",
            "--quiet",
            "--overwrite",
            "-o",
            str(tmp / "model"),
        ],
        "encode sphereM": ["encode", str(points), "-m", "sphereM", "--overwrite", "-o", str(tmp / "e.parquet")],
    }


def _points(tmp: Path, n: int) -> Path:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    path = tmp / "pts.parquet"
    pq.write_table(pa.table({"lon": rng.uniform(-180, 180, n), "lat": rng.uniform(-90, 90, n)}), path)
    return path


def _time(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--competitors", type=int, default=None, help="busy processes beside the job (default: CPUs)")
    ap.add_argument("--points", type=int, default=1_000_000)
    args = ap.parse_args()
    cpus = len(os.sched_getaffinity(0))
    counts: list[int | None] = [1, *range(2, cpus + 1), None]  # None: geoenc's default (no --threads)
    loads = [0] + ([args.competitors if args.competitors is not None else cpus] if args.competitors != 0 else [])
    exe = [sys.executable, "-m", "geoenc"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        jobs = _jobs(tmp, _points(tmp, args.points))
        print(f"{cpus} CPUs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("| job | competitors | threads | median wall (s) | vs 1 thread |\n|---|---|---|---|---|")
        for comp in loads:
            stop = mp.Event()
            spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(comp)]
            for p in spinners:
                p.start()
            try:
                for name, job in jobs.items():
                    times: dict[int | None, list[float]] = {t: [] for t in counts}
                    for _ in range(args.repeats):
                        for t in counts:
                            opt = ["--threads", str(t)] if t is not None else []
                            times[t].append(_time([*exe, *opt, *job]))
                    base = statistics.median(times[1])
                    for t in counts:
                        med = statistics.median(times[t])
                        label = t if t is not None else "default"
                        print(f"| {name} | {comp} | {label} | {med:.2f} | {med / base:.2f} |")
            finally:
                stop.set()
                for p in spinners:
                    p.join()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
