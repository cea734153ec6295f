"""Encoding throughput of every registered position encoder, against a float64 numpy baseline.

Usage (what docs/encoders.md reports)::

    python benchmarks/encode_speed.py --points 1000000 --markdown

For every encoder at its defaults (plus ``sh`` at L=40), it encodes ``--points`` uniform random
points on the sphere in chunks of ``--chunk`` under ``torch.inference_mode()`` and reports points/s,
once on one core and once with ``--workers`` threads (one torch thread each) sharing the chunks.
In the same process it runs a numpy float64 implementation of the same formula, written the way
the reference research code computes encodings (numpy on the CPU, per-scale matrices, then a copy
into a float32 torch tensor), on ``--baseline-points`` points (fewer for the slowest baselines).

Both the one-core torch run and the numpy run are timed in wall-clock time and in CPU time of the
calling thread; the ratio is taken on CPU time, which a machine shared with other jobs disturbs far
less than wall time. Each figure is the best of ``--repeats`` interleaved runs.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from geoenc.encoders import encoder_names, get_encoder

# --------------------------------------------------------------------------------------------
# numpy float64 baselines: one function per encoder, (N, 2) lon/lat degrees -> float32 tensor
# --------------------------------------------------------------------------------------------


def _to_torch(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).float()


def _geo_freqs(s: int, rmin: float, rmax: float) -> np.ndarray:
    inc = math.log(rmax / rmin) / (s - 1.0)
    return 1.0 / (rmin * np.exp(np.arange(s, dtype=np.float64) * inc))


def np_tile(enc) -> Callable[[np.ndarray], torch.Tensor]:
    table = enc.table.detach().numpy().astype(np.float64)
    cs, nr, nc = enc.cell_size, enc.n_rows, enc.n_cols

    def f(x):
        col = np.clip(np.floor(np.mod(x[:, 0] + 180.0, 360.0) / cs).astype(np.int64), 0, nc - 1)
        row = np.clip(np.floor((x[:, 1] + 90.0) / cs).astype(np.int64), 0, nr - 1)
        return _to_torch(table[col * nr + row])

    return f


def np_wrap(enc):
    def f(x):
        xt = x / np.array([180.0, 90.0])
        return _to_torch(np.concatenate((np.sin(math.pi * xt), np.cos(math.pi * xt)), axis=1)[:, [0, 2, 1, 3]])

    return f


def np_rbf(enc):
    a = enc.anchors.numpy()
    sig = enc.kernel_size

    def f(x):
        d = x[:, None, :] - a[None, :, :]
        return _to_torch(np.exp(-np.sum(d * d, axis=2) / (2.0 * sig * sig)))

    return f


def np_rff(enc):
    p = enc.params
    gen = np.random.default_rng(0)
    w = gen.normal(0.0, math.sqrt(p["kernel_size"]), size=(p["frequency_num"], 2))
    b = gen.uniform(0.0, 2 * math.pi, size=p["frequency_num"])
    e = p["extent"]

    def f(x):
        lo = np.array([e[0], e[2]])
        hi = np.array([e[1], e[3]])
        xt = (x - lo) / (hi - lo) * 2.0 - 1.0
        return _to_torch(math.sqrt(2.0 / len(b)) * np.cos(xt @ w.T + b))

    return f


def _space2vec(dirs: np.ndarray, enc):
    p = enc.params
    freqs = _geo_freqs(p["frequency_num"], p["min_radius"], p["max_radius"])
    s = len(freqs)
    k = dirs.shape[0]
    # reference style: (N, K) projections expanded to (N, K, S, 2) with a frequency matrix, sin on even, cos on odd
    freq_mat = np.repeat(freqs[:, None], 2, axis=1)  # (S, 2)

    def f(x):
        a = x @ dirs.T  # (N, K)
        m = np.repeat(np.repeat(a[:, :, None, None], s, axis=2), 2, axis=3) * freq_mat[None, None]
        m[:, :, :, 0] = np.sin(m[:, :, :, 0])
        m[:, :, :, 1] = np.cos(m[:, :, :, 1])
        return _to_torch(m.reshape(x.shape[0], k * s * 2))

    return f


def np_grid(enc):
    return _space2vec(np.eye(2), enc)


def np_theory(enc):
    q = math.sqrt(3.0) / 2.0
    return _space2vec(np.array([[1.0, 0.0], [-0.5, q], [-0.5, -q]]), enc)


def np_xyz(enc):
    def f(x):
        lon, lat = np.radians(x[:, 0]), np.radians(x[:, 1])
        return _to_torch(np.stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), axis=1))

    return f


def np_nerf(enc):
    L = enc.params["frequency_num"]

    def f(x):
        lon, lat = np.radians(x[:, 0]), np.radians(x[:, 1])
        p = np.stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), axis=1)
        out = []
        for l in range(L):
            out.append(np.sin(math.pi * 2.0**l * p))
            out.append(np.cos(math.pi * 2.0**l * p))
        return _to_torch(np.concatenate(out, axis=1))

    return f


def _sphere(enc, terms: Callable):
    p = enc.params
    freqs = _geo_freqs(p["frequency_num"], p["min_radius"], p["max_radius"])

    def f(x):
        lon, lat = np.radians(x[:, 0:1]), np.radians(x[:, 1:2])
        lam, phi = lon * freqs[None], lat * freqs[None]  # (N, S)
        return _to_torch(np.concatenate(terms(lon, lat, lam, phi), axis=1))

    return f


def np_sphereC(enc):
    return _sphere(enc, lambda lon, lat, lam, phi: [np.sin(phi), np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam)])


def np_sphereCp(enc):
    return _sphere(
        enc,
        lambda lon, lat, lam, phi: [
            np.sin(phi),
            np.cos(phi),
            np.sin(lam),
            np.cos(lam),
            np.cos(phi) * np.cos(lam),
            np.cos(phi) * np.sin(lam),
        ],
    )


def _m_terms(lon, lat, lam, phi):
    return [
        np.sin(phi),
        np.cos(phi) * np.cos(lon),
        np.cos(lat) * np.cos(lam),
        np.cos(phi) * np.sin(lon),
        np.cos(lat) * np.sin(lam),
    ]


def np_sphereM(enc):
    return _sphere(enc, _m_terms)


def np_sphereMp(enc):
    return _sphere(
        enc, lambda lon, lat, lam, phi: [*_m_terms(lon, lat, lam, phi), np.cos(phi), np.sin(lam), np.cos(lam)]
    )


def np_dfs(enc):
    def terms(lon, lat, lam, phi):
        n = lon.shape[0]
        a = np.stack((np.cos(phi), np.sin(phi)), axis=1)
        b = np.stack((np.cos(lam), np.sin(lam)), axis=1)
        cross = np.einsum("nis,njt->nisjt", a, b).reshape(n, -1)
        return [cross, np.cos(phi), np.sin(phi), np.cos(lam), np.sin(lam)]

    return _sphere(enc, terms)


def np_sh(enc):
    L = enc.params["degree"]

    def legendre(l, m, x):  # unnormalised P_l^m by the per-(l, m) recurrence of the reference code
        pmm = np.ones_like(x)
        if m > 0:
            somx2 = np.sqrt((1 - x) * (1 + x))
            fact = 1.0
            for _ in range(m):
                pmm = pmm * fact * somx2
                fact += 2.0
        if l == m:
            return pmm
        pmmp1 = x * (2.0 * m + 1.0) * pmm
        if l == m + 1:
            return pmmp1
        for ll in range(m + 2, l + 1):
            pll = ((2.0 * ll - 1.0) * x * pmmp1 - (ll + m - 1.0) * pmm) / (ll - m)
            pmm, pmmp1 = pmmp1, pll
        return pmmp1

    def f(x):
        lon, lat = np.radians(x[:, 0]), np.radians(x[:, 1])
        ct = np.sin(lat)
        cols = []
        for l in range(L):
            for m in range(-l, l + 1):
                am = abs(m)
                k = math.sqrt((2 * l + 1) * math.factorial(l - am) / (4 * math.pi * math.factorial(l + am)))
                pl = legendre(l, am, ct)
                if m == 0:
                    cols.append(k * pl)
                elif m > 0:
                    cols.append(math.sqrt(2) * k * pl * np.cos(m * lon))
                else:
                    cols.append(math.sqrt(2) * k * pl * np.sin(am * lon))
        return _to_torch(np.stack(cols, axis=1))

    return f


def np_geoclip(enc):
    freqs = enc.freqs.numpy()
    w, k = enc.width, enc.n_scales
    a1, a2, a3, a4, sf = 1.340264, -0.081106, 0.000893, 0.003796, 66.50336

    def f(x):
        lat, lon = np.radians(x[:, 1]), np.radians(x[:, 0])
        th = np.arcsin(math.sqrt(3) / 2 * np.sin(lat))
        den = 3 * (9 * a4 * th**8 + 7 * a3 * th**6 + 3 * a2 * th**2 + a1)
        ex = 2 * math.sqrt(3) * lon * np.cos(th) / den
        ey = a4 * th**9 + a3 * th**7 + a2 * th**3 + a1 * th
        e = np.stack((ex, ey), axis=1) * sf / 180.0
        out = []
        for i in range(k):
            v = 2 * math.pi * e @ freqs[i * w : (i + 1) * w].T
            out += [np.cos(v), np.sin(v)]
        return _to_torch(np.concatenate(out, axis=1))

    return f


BASELINES = {
    "tile": np_tile,
    "wrap": np_wrap,
    "wrap_ffn": np_wrap,
    "rbf": np_rbf,
    "rff": np_rff,
    "grid": np_grid,
    "theory": np_theory,
    "xyz": np_xyz,
    "nerf": np_nerf,
    "sphereC": np_sphereC,
    "sphereC+": np_sphereCp,
    "sphereM": np_sphereM,
    "sphereM+": np_sphereMp,
    "dfs": np_dfs,
    "sh": np_sh,
    "geoclip": np_geoclip,
}

#: slow baselines are timed on fewer points (points/s is what is compared)
BASELINE_POINTS = {"dfs": 20_000, "sh": 50_000, "geoclip": 50_000, "rbf": 50_000}


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed blocks instead of returning them to the OS after every chunk.

    Without this every large output (dfs: 17 kB per point) is a fresh mmap whose pages fault in one
    by one, and the page faults, not the arithmetic, set the pace; it applies to torch and numpy alike.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except OSError:  # not glibc
        pass


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def random_points(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    lon = torch.rand(n, generator=g, dtype=torch.float64) * 360.0 - 180.0
    lat = torch.rad2deg(torch.asin(torch.rand(n, generator=g, dtype=torch.float64) * 2.0 - 1.0))
    return torch.stack((lon, lat), dim=1)


def time_best(fn: Callable[[], None], repeats: int) -> tuple[float, float]:
    """Best wall-clock time and best CPU time of this thread over ``repeats`` runs of ``fn``.

    The CPU time (``time.thread_time``) counts only the cycles this thread got, so on a machine shared
    with other jobs it stays close to the idle-machine wall time while the wall time does not. It is
    only meaningful for work done on the calling thread (torch with one intra-op thread, numpy).
    """
    wall = cpu = math.inf
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        cpu = min(cpu, time.thread_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return wall, cpu


def bench(
    name: str, params: dict, pts64: torch.Tensor, chunk: int, base_points: int, repeats: int, pool: ThreadPoolExecutor
) -> dict:
    enc = get_encoder(name, **params)
    if enc.needs_fit:
        enc.fit(pts64, seed=0)
    enc.eval()
    pts32 = pts64.float()
    chunks = list(torch.split(pts32, chunk))

    def encode(c: torch.Tensor) -> None:
        with torch.inference_mode():
            enc(c)

    def run_torch_1():
        for c in chunks:
            encode(c)

    def run_torch_pool():
        list(pool.map(encode, chunks))

    ref = BASELINES[name](enc)
    nb = min(base_points, BASELINE_POINTS.get(name, base_points), pts64.shape[0])
    if name == "sh" and enc.degree > 20:
        nb = min(nb, 5_000)
    np_chunks = [c.numpy() for c in torch.split(pts64[:nb], chunk)]

    def run_numpy():
        for c in np_chunks:
            ref(c)

    encode(chunks[0])  # warm-up
    ref(np_chunks[0][:100])
    # interleave the runs so that all see the same load on a shared machine; keep the best of each
    t1 = c1 = tp = t_np = c_np = math.inf
    for _ in range(repeats):
        w, c = time_best(run_torch_1, 1)
        t1, c1 = min(t1, w), min(c1, c)
        tp = min(tp, time_best(run_torch_pool, 1)[0])
        w, c = time_best(run_numpy, 1)
        t_np, c_np = min(t_np, w), min(c_np, c)
    n = pts32.shape[0]
    return {
        "name": name,
        "params": params,
        "dim": enc.embedding_dim,
        "chunk": chunk,
        "torch1_cpu": n / c1,
        "numpy_cpu": nb / c_np,
        "torch1_pps": n / t1,
        "torch_pps": n / tp,
        "numpy_pps": nb / t_np,
        "numpy_points": nb,
    }


CASES: list[tuple[str, dict]] = [(n, {}) for n in encoder_names()] + [("sh", {"degree": 40})]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument(
        "--chunk",
        type=int,
        default=0,
        help="points per chunk (default: 2^19 / D clipped to [1024, 65536]: about 2 MB of float32 output, cache-sized)",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="threads encoding chunks side by side, each with one torch intra-op thread (default 2, "
        "one per core: on a shared machine this degrades gracefully, unlike intra-op threads "
        "that wait for each other)",
    )
    ap.add_argument("--baseline-points", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="encoder names to run (default: all)")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    _keep_freed_memory()
    pool = ThreadPoolExecutor(max_workers=args.workers)
    pts = random_points(args.points)
    rows = []
    for name, params in CASES:
        if args.only and name not in args.only:
            continue
        dim = get_encoder(name, **params).embedding_dim
        chunk = args.chunk or min(65_536, max(1_024, (1 << 19) // dim))
        r = bench(name, params, pts, chunk, args.baseline_points, args.repeats, pool)
        rows.append(r)
        print(
            f"{name:10s} {params!s:15s} D={r['dim']:5d} | CPU time: torch {r['torch1_cpu']:>12,.0f} "
            f"numpy {r['numpy_cpu']:>11,.0f} pts/s x{r['torch1_cpu'] / r['numpy_cpu']:5.1f} | wall: torch "
            f"{r['torch1_pps']:>12,.0f}, {args.workers} workers {r['torch_pps']:>12,.0f}, numpy "
            f"{r['numpy_pps']:>11,.0f}",
            file=sys.stderr,
        )

    if args.markdown:
        print(
            f"torch {torch.__version__}, numpy {np.__version__}, {args.points:,} points, best of {args.repeats}; "
            f"load average at the end {_loadavg()}\n"
        )
        print(
            "| encoder | params | D | chunk | torch f32 1 core (pts per CPU-s) | numpy f64 (pts per CPU-s) "
            f"| ratio | torch 1 core wall (pts/s) | torch {args.workers} workers wall (pts/s) | numpy wall (pts/s) |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            p = ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "defaults"
            print(
                f"| {r['name']} | {p} | {r['dim']:,} | {r['chunk']:,} | {r['torch1_cpu']:,.0f} | "
                f"{r['numpy_cpu']:,.0f} | **{r['torch1_cpu'] / r['numpy_cpu']:.1f}×** | {r['torch1_pps']:,.0f} | "
                f"{r['torch_pps']:,.0f} | {r['numpy_pps']:,.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
