"""Speed of the geo-bias scores (run: python benchmarks/geobias_speed.py [--quick]).

Prints
1. Gi* (k = 8, analytic) on 500,000 points spread over the sphere, graph included;
2. SSI per centre, both scores: the batched implementation (modes pygbs and exact) vs the slow reference
   (tests/metrics/ssi_reference.py: dense W, loops; mode exact) on the same centres;
3. SSI for 100,000 centres (both scores, mode exact) on a 100,000-point data set, all CPU cores.

Data: synthetic, clustered like real observations (50 clusters, σ = 3°) so that most neighbourhoods
are full (k = 400 points within 0.05 rad); 30 % of points are low-performance at random.
Wall-clock and process CPU time are both reported (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geoenc.metrics.hotspots import hotspots
from geoenc.metrics.ssi import DEFAULT_RADIUS_KM, ssi_scores
from tests.metrics.ssi_reference import reference_ssi


def clustered(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    c = rng.uniform([-120, -40], [140, 60], (50, 2))
    lab = rng.integers(0, 50, n)
    lon = (c[lab, 0] + rng.normal(0, 3, n) + 180) % 360 - 180
    lat = np.clip(c[lab, 1] + rng.normal(0, 3, n), -89.9, 89.9)
    return lon, lat, rng.random(n) < 0.3


def timed(fn):
    """(result, wall s, CPU s of this process and of its finished worker processes)."""
    import resource

    def cpu():
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + ch.ru_utime + ch.ru_stime

    w, c = time.perf_counter(), cpu()
    out = fn()
    return out, time.perf_counter() - w, cpu() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gi-n", type=int, default=500_000)
    ap.add_argument("--ssi-n", type=int, default=100_000, help="points in the SSI data set")
    ap.add_argument("--centres", type=int, default=100_000, help="centres for the total-time run")
    ap.add_argument("--compare", type=int, default=200, help="centres timed with the fast implementation")
    ap.add_argument("--ref-centres", type=int, default=20, help="of those, centres run through the slow reference")
    ap.add_argument("--jobs", type=int, default=-1)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    a = ap.parse_args()
    if a.quick:
        a.gi_n, a.ssi_n, a.centres, a.compare, a.ref_centres = 50_000, 20_000, 2_000, 50, 3
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")

    rng = np.random.default_rng(0)
    lon = rng.uniform(-180, 180, a.gi_n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, a.gi_n)))
    y = rng.random(a.gi_n)
    _, w, c = timed(lambda: hotspots(lon, lat, y, k=8))
    print(f"Gi* k=8, {a.gi_n:,} points (kNN graph + z + p + bins): {w:.2f} s wall, {c:.2f} s CPU")

    lon, lat, bad = clustered(a.ssi_n)
    ssi_scores(lon[:5000], lat[:5000], bad[:5000], centres="all")  # warm the grid caches
    ids = np.flatnonzero(bad)[: a.compare]
    mask = np.zeros(lon.size, dtype=bool)
    mask[ids] = True
    for mode in ("pygbs", "exact"):  # exact (the default) last: its figures are compared with the reference
        res, w, c = timed(lambda m=mode: ssi_scores(lon, lat, bad, centres=mask, n_jobs=1, mode=m))
        fast_ms, fast_cpu = 1e3 * w / ids.size / 2, 1e3 * c / ids.size / 2
        print(
            f"SSI fast ({mode}), {ids.size} centres x 2 scores (median neighbourhood "
            f"{int(np.median(res.n_neighbours[ids]))} points): {fast_ms:.2f} ms per centre per score wall "
            f"({fast_cpu:.2f} ms CPU), 1 process"
        )
    sub = ids[: a.ref_centres]
    (un, mk), w, c = timed(lambda: reference_ssi(lon, lat, bad, sub, DEFAULT_RADIUS_KM, 400))
    ref_ms, ref_cpu = 1e3 * w / sub.size / 2, 1e3 * c / sub.size / 2
    err = max(np.abs(un - res.unmarked[sub]).max(), np.abs(mk - res.marked[sub]).max())
    print(
        f"SSI reference (dense W, loops), {sub.size} of those centres: {ref_ms:.1f} ms per centre per score wall "
        f"({ref_cpu:.1f} ms CPU); max |fast - reference| = {err:.1e}"
    )
    print(
        f"speed-up per centre vs the reference: {ref_ms / fast_ms:.0f}x wall, {ref_cpu / fast_cpu:.0f}x CPU; "
        f"vs PyGBS's 67 ms per centre per score: {67.0 / fast_ms:.0f}x wall, {67.0 / fast_cpu:.0f}x CPU"
    )

    n_c = min(a.centres, lon.size)
    mask = np.zeros(lon.size, dtype=bool)
    mask[np.random.default_rng(2).choice(lon.size, n_c, replace=False)] = True
    res, w, c = timed(lambda: ssi_scores(lon, lat, bad, centres=mask, n_jobs=a.jobs))
    print(
        f"SSI {n_c:,} centres x 2 scores on {lon.size:,} points, n_jobs={a.jobs}: {w:.1f} s wall "
        f"({1e3 * w / n_c:.2f} ms per centre, both scores); CPU {c:.1f} s in all processes "
        f"({1e3 * c / n_c:.2f} ms per centre, both scores; {c / (os.cpu_count() or 1):.0f} s wall on idle cores); "
        f"median neighbourhood {int(np.median(res.n_neighbours[mask]))}"
    )


if __name__ == "__main__":
    main()
