"""Points per CPU-second of ``geoenc.encode`` for several encoders, for comparing two versions of geoenc.

    PYTHONPATH=/path/to/old/tree python benchmarks/encode_versions.py sphereM,grid,nerf 300000
    PYTHONPATH=$PWD              python benchmarks/encode_versions.py sphereM,grid,nerf 300000

Run the two alternately (a few times each) and compare the medians. Only the public API is used, so it runs
against older versions too; glibc's allocator thresholds are set the same way for both (as ``encode_array``
does), one torch thread. dfs and geoclip are timed on at most 100,000 points.
"""

from __future__ import annotations

import ctypes
import os
import statistics
import sys
import time

import numpy as np
import torch

import geoenc


def main() -> int:
    names = sys.argv[1].split(",")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300_000
    torch.set_num_threads(1)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 512 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD
    rng = np.random.default_rng(0)
    pts = np.column_stack((rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))))
    out = {}
    for name in names:
        m = min(n, 100_000) if name in ("dfs", "geoclip") else n
        geoenc.encode(pts[:2000], name, device="cpu")
        runs = []
        for _ in range(3):
            c0 = time.process_time()
            geoenc.encode(pts[:m], name, device="cpu")
            runs.append(time.process_time() - c0)
        out[name] = m / statistics.median(runs)
    print(" ".join(f"{k}={v:.0f}" for k, v in out.items()), f"load={os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
