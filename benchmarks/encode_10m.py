"""Encode 10 million points Parquet → Parquet with `geoenc encode --method xyz`; report wall time and peak RSS.

    python benchmarks/encode_10m.py [--rows 10000000] [--method xyz] [--workdir /tmp/geoenc-bench]

The input GeoParquet is generated in chunks (uniform on the sphere, seeded) and then encoded by the real
command line in a child process, so the peak RSS reported is that of `geoenc encode` alone.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def make_input(path: Path, rows: int, chunk: int = 1_000_000, seed: int = 0) -> None:
    from geoenc.io import PointWriter

    rng = np.random.default_rng(seed)
    with PointWriter(path, overwrite=True) as w:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            lon = rng.uniform(-180, 180, n)
            lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
            w.write(lon, lat, pa.table({"id": np.arange(start, start + n, dtype=np.int64)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--method", default="xyz")
    ap.add_argument("--workdir", default="/tmp/geoenc-bench")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    src, dst = work / f"points_{args.rows}.parquet", work / f"encoded_{args.rows}.parquet"
    if not src.exists() or pq.ParquetFile(src).metadata.num_rows != args.rows:
        t = time.perf_counter()
        make_input(src, args.rows)
        print(f"generated {args.rows:,} points in {time.perf_counter() - t:.1f} s ({src.stat().st_size / 1e6:.0f} MB)")
    cmd = [
        sys.executable,
        "-m",
        "geoenc",
        "encode",
        str(src),
        "-m",
        args.method,
        "-o",
        str(dst),
        "--overwrite",
        "--quiet",
        "--device",
        "cpu",
    ]
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows = pq.ParquetFile(dst).metadata.num_rows
    assert rows == args.rows, (rows, args.rows)
    print("| method | rows | wall time (s) | points/s | peak RSS (MB) | output (MB) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.method} | {rows:,} | {wall:.1f} | {rows / wall:,.0f} | {peak_kb / 1024:.0f} | "
        f"{dst.stat().st_size / 1e6:.0f} |"
    )
    print(f"cpu cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
