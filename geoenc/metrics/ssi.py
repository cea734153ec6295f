"""Spatial self-information (SSI) geo-bias scores: two named definitions, batched and fast.

SSI (TorchSpatial, NeurIPS 2024 D&B; PyGBS, seai-lab) asks, around a centre, how surprising the local
pattern of data points is against a regular background grid: −log of a two-sided normal p-value of
S = zᵀWz. For every centre:

1. **Neighbourhood**: the points within ``radius`` (great-circle) among the centre's ``k`` nearest
   (centre included). Default radius 0.05 rad (≈ 318.6 km), the value of PyGBS's committed results.
2. **Background**: PyGBS's polar concentric grid, ≈ 5 grid points per presence point, first point of every
   ring due north (:mod:`geoenc.metrics.ssi_graph`).
3. **Values**: unmarked — presence 1, background 0; marked — presence +1 (good) / −1 (bad), background 0.
   The unmarked presence points are every neighbourhood point (``presence="all"``, PyGBS's scripts) or
   only the low-performance ones (``"low"``).
4. **Weights** W: directed 4-nearest-neighbour 0/1 graph over presence ∪ background.
5. **Statistic**: S = zᵀWz, z = values − mean(values) (the unscaled Moran numerator).
6. **Null**: S ~ N(μ, σ²); p = 2Φ(min(S, 2μ − S); μ, σ); SSI = −log(p + 10⁻²⁵⁶), so at most
   −log(10⁻²⁵⁶) ≈ 589.46 (the *cap*; a centre within 0.01 of it is *saturated*).

The two modes differ in the null and the conventions around it (nothing else):

=============  ============================================  ==============================================
               ``exact`` (default)                           ``pygbs``
=============  ============================================  ==============================================
μ, σ           exact mean and variance of S under random     PyGBS's closed forms from the category counts
               permutation of the m values over the m        (join-count style, for 4 neighbours; W not
               sites (Cliff–Ord with S0, S1, S2 of W)        used), as in seai-lab/PyGBS ``surprisal.py``
σ pad          none                                          +1.0 added to σ, as PyGBS
4-NN metric    Euclidean in the centre's azimuthal-          great-circle distance, as PyGBS's haversine
               equidistant plane                             ball tree
presence       ``low`` (TorchSpatial's definition)           ``all`` (what the PyGBS scripts pass)
=============  ============================================  ==============================================

``exact`` is the default because its μ and σ are those of the permutation test the score approximates
(checked against Monte-Carlo permutations in the tests), while PyGBS's mean is biased and its padded σ
lowers every score; ``pygbs`` reproduces PyGBS's published computation for comparison with its numbers.

**Relative score** (``relative=N``): the marks are permuted N times over the same points (seeded), the
scores recomputed *at the same centres*, and the observed summary minus the mean permuted summary is
reported with the spread of the permuted summaries: the level of geo-bias above what errors placed at
random, at the same rate and among the same data points, would show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import ndtr

from geoenc.errors import UsageError
from geoenc.metrics.moran import numerator_moments
from geoenc.metrics.spatial import EARTH_RADIUS_KM, km_to_rad, lonlat_to_xyz, rad_to_chord
from geoenc.metrics.ssi_graph import BatchGraph, build_graph, grid_size, unit_grid  # noqa: F401 (re-export)

DEFAULT_RADIUS_RAD = 0.05
DEFAULT_RADIUS_KM = DEFAULT_RADIUS_RAD * EARTH_RADIUS_KM  # ≈ 318.55 km
DEFAULT_K = 400
MODES = ("exact", "pygbs")
DEFAULT_MODE = "exact"
PRESENCE = ("low", "all")
P_FLOOR = 1e-256
SSI_CAP = float(-np.log(P_FLOOR))  # ≈ 589.46
SATURATION_GAP = 0.01  # a score within this of the cap counts as saturated (p below 1 % of the floor)
BATCHES_PER_TASK = 8  # batches of centres per task when they are split across workers (``mapper``): ~0.5–5 s each


@dataclass(frozen=True)
class ModeSpec:
    """What a mode fixes: the null moments, the σ pad, the 4-NN metric and the default presence set."""

    null: str
    sigma_pad: float
    metric: str
    presence: str


MODE_SPECS = {
    "exact": ModeSpec(null="exact", sigma_pad=0.0, metric="plane", presence="low"),
    "pygbs": ModeSpec(null="pygbs", sigma_pad=1.0, metric="sphere", presence="all"),
}


# ------------------------------------------------------------------------------------------ null moments
def pygbs_moments(cats: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PyGBS's closed-form mean and (unpadded) σ of S from category values and counts.

    ``cats`` (K,) the distinct values in ascending order, ``counts`` (C, K) their counts per centre
    (0 = absent). Written from the formulas of seai-lab/PyGBS ``gbs/ssi/surprisal.py``
    (``compute_mean``, ``compute_std``; 4 neighbours): with N = Σn, x̄ the mean value, d_a = c_a − x̄ and
    r the most frequent category,

        μ = Σ_{a≠b} d_a d_b · 4 n_a n_b / N + Σ_a d_a² (4 n_a (n_a − 1)/N − 1)
        σ² = Σ_{a≠b; a,b≠r} (d_a d_b − 2 d_a d_r + d_r²)² · min(n_a, n_b) (4M/N)(1 − 4M/N),  M = max(n_a, n_b)
           + Σ_{a≠r} (c_a − c_r)⁴ · 8 n_a (n_a − 1)/N · (1 − 4 (2 n_a − 1)/(3N)).
    """
    c = np.asarray(cats, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    pres = n > 0
    big_n = n.sum(axis=1)
    xm = (n * c).sum(axis=1) / big_n
    d = c[None, :] - xm[:, None]
    K = c.size
    mu = np.zeros(big_n.size)
    for a in range(K):
        for b in range(K):
            both = pres[:, a] & pres[:, b]
            if a != b:
                term = d[:, a] * d[:, b] * 4.0 * n[:, a] * n[:, b] / big_n
            else:
                term = d[:, a] ** 2 * (4.0 * n[:, a] * (n[:, a] - 1.0) / big_n - 1.0)
            mu += np.where(both, term, 0.0)
    r = np.argmax(n, axis=1)
    d_r = d[np.arange(big_n.size), r]
    c_r = c[r]
    var = np.zeros(big_n.size)
    for a in range(K):
        for b in range(K):
            use = pres[:, a] & pres[:, b] & (r != a) & (r != b)
            if a != b:
                hi = np.maximum(n[:, a], n[:, b])
                lo = np.minimum(n[:, a], n[:, b])
                coef = (d[:, a] * d[:, b] - 2.0 * d[:, a] * d_r + d_r * d_r) ** 2
                term = coef * lo * (4.0 * hi / big_n) * (1.0 - 4.0 * hi / big_n)
            else:
                na = n[:, a]
                term = (
                    (c[a] - c_r) ** 4 * 8.0 * na * (na - 1.0) / big_n * (1.0 - 4.0 * (2.0 * na - 1.0) / (3.0 * big_n))
                )
            var += np.where(use, term, 0.0)
    return mu, np.sqrt(var)


def _statistic(graph: BatchGraph, pv: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ssi, S, μ, σ) per centre of ``graph`` for presence values ``pv`` (in the graph's presence order)."""
    spec = MODE_SPECS[mode]
    C = graph.n_c.size
    T = graph.rc.size
    val = np.zeros(T)
    val[graph.prow] = pv
    mean = np.bincount(graph.rc, val, minlength=C) / graph.m_c
    z = val - mean[graph.rc]
    s = np.bincount(graph.rc, z * z[graph.nb].sum(axis=1), minlength=C)
    if spec.null == "exact":
        z2 = z * z
        m2 = np.bincount(graph.rc, z2, minlength=C) / graph.m_c
        m4 = np.bincount(graph.rc, z2 * z2, minlength=C) / graph.m_c
        with np.errstate(divide="ignore", invalid="ignore"):
            b2 = np.where(m2 > 0, m4 / (m2 * m2), 0.0)
        assert graph.s1 is not None and graph.s2 is not None  # built with the exact moments' sums
        mu, var = numerator_moments(graph.m_c, 4.0 * graph.m_c, graph.s1, graph.s2, m2, b2)
        sigma = np.sqrt(var)
    else:
        cid = graph.rc[graph.prow]
        neg = np.bincount(cid, pv < 0, minlength=C)
        pos = np.bincount(cid, pv > 0, minlength=C)
        mu, sigma = pygbs_moments(np.array([-1.0, 0.0, 1.0]), np.column_stack((neg, graph.g_c, pos)))
    sigma = sigma + spec.sigma_pad
    low = np.minimum(s, 2.0 * mu - s)
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = np.where(sigma > 0, (low - mu) / sigma, 0.0)
    p = 2.0 * ndtr(zs)
    return -np.log(p + P_FLOOR), s, mu, sigma


def _scores(
    cid: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    values_list: list[np.ndarray],
    n_total: int,
    r: float,
    mode: str,
    workers: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """SSI of ``n_total`` centres for one presence set and several value vectors sharing its graph.

    ``cid`` (Np,) centre of each presence point (sorted); centres without presence points get SSI 0
    (p = 1). Returns (ssi (V, n_total), S, μ, σ of the first value vector).
    """
    spec = MODE_SPECS[mode]
    n_c = np.bincount(cid, minlength=n_total)
    out = np.zeros((len(values_list), n_total))
    s_out = np.zeros(n_total)
    mu_out = np.zeros(n_total)
    sig_out = np.full(n_total, spec.sigma_pad)
    active = n_c > 0
    if not active.any():
        return out, s_out, mu_out, sig_out
    remap = np.cumsum(active) - 1
    graph = build_graph(remap[cid], px, py, n_c[active], r, spec.metric, spec.null == "exact", workers)
    for v, pv in enumerate(values_list):
        ssi, s, mu, sigma = _statistic(graph, pv, mode)
        out[v, active] = ssi
        if v == 0:
            s_out[active], mu_out[active], sig_out[active] = s, mu, sigma
    return out, s_out, mu_out, sig_out


# ------------------------------------------------------------------------------------------ batches
def local_frame(
    xyz_c: np.ndarray, lon_c: np.ndarray, lat_c: np.ndarray, xyz_p: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthal-equidistant coordinates (radians; x east, y north) of points ``xyz_p`` around centres.

    ``xyz_c``/``lon_c``/``lat_c``: per pair centre (unit vector, degrees); ``xyz_p``: per pair point.
    """
    lam = np.radians(lon_c)
    phi = np.radians(lat_c)
    sl, cl, sp, cp = np.sin(lam), np.cos(lam), np.sin(phi), np.cos(phi)
    xe = -sl * xyz_p[:, 0] + cl * xyz_p[:, 1]
    yn = -sp * cl * xyz_p[:, 0] - sp * sl * xyz_p[:, 1] + cp * xyz_p[:, 2]
    w = (xyz_c * xyz_p).sum(axis=1)
    s = np.hypot(xe, yn)
    c = np.arctan2(s, w)
    f = np.divide(c, s, out=np.ones_like(s), where=s > 0)
    return xe * f, yn * f


_STATE: dict[str, Any] = {}  # the inputs of the running ssi_scores call (copied once into each worker)


def _n_jobs(n_jobs: int, n_batches: int) -> int:
    import os

    if n_jobs is None or n_jobs == 0:
        n_jobs = 1
    if n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    if os.name != "posix":
        n_jobs = 1
    return max(1, min(n_jobs, n_batches))


_NO_WORKERS = (
    "the geo-bias worker processes did not start: a script that asks for several jobs must run its code under "
    "`if __name__ == '__main__':` (worker processes import the script), or use n_jobs=1"
)


def _start_pool(jobs: int, shared: dict[str, Any]) -> Any:
    """``jobs`` worker processes holding ``shared`` (the run's inputs), started from a fork server.

    Not a fork of this process: a process that already runs threads (torch's, a thread pool's, a notebook's) can
    hand a forked child a lock held by a thread that does not exist there, and the child hangs. The server is
    started with SIGINT ignored, so its children ignore Ctrl-C from birth (the parent handles it and terminates
    the pool); a Ctrl-C while the inputs are being sent to the workers takes effect once they are sent, so no
    worker reads a truncated message.
    """
    import multiprocessing as mp
    import signal
    import threading
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    # the server imports this module once; each worker is then a fork of it, ready in milliseconds
    ctx.set_forkserver_preload([__name__])
    if threading.current_thread() is not threading.main_thread():
        try:
            return ctx.Pool(jobs, initializer=_worker_init, initargs=(shared,))
        except (BrokenPipeError, EOFError, ConnectionError):
            raise UsageError(_NO_WORKERS) from None
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, old)
    pressed: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        pool = ctx.Pool(jobs, initializer=_worker_init, initargs=(shared,))
    except (BrokenPipeError, EOFError, ConnectionError):
        raise UsageError(_NO_WORKERS) from None
    finally:
        signal.signal(signal.SIGINT, old)
    if pressed:
        pool.terminate()
        pool.join()
        raise KeyboardInterrupt
    return pool


def _worker_init(shared: dict[str, Any]) -> None:
    """A worker process: takes the run's inputs (``shared``, without the k-d tree, which it builds the same way),
    ends quietly on SIGTERM and leaves Ctrl-C to the parent, which terminates the pool."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STATE.clear()
    _STATE.update(shared)
    _STATE["tree"] = cKDTree(_STATE["xyz"])


BatchOut = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]


def _run_batch(cids: np.ndarray, st: dict[str, Any] | None = None) -> BatchOut:
    """Scores of one batch of centres for the observed marks and every permutation (inputs in ``st``, by
    default ``_STATE``).

    Returns (cids, unmarked (1+P, B), marked (1+P, B), neighbour counts (B,), details dict).
    """
    st = _STATE if st is None else st
    xyz, n = st["xyz"], st["xyz"].shape[0]
    lon, lat, r, mode, workers = st["lon"], st["lat"], st["r"], st["mode"], st["workers"]
    marks = st["marks"]  # (1+P, n) bool: observed low-performance flags, then the permutations
    dist, nbi = st["tree"].query(xyz[cids], k=st["k"], workers=workers)
    nbi = nbi.reshape(cids.size, st["k"])
    dist = dist.reshape(cids.size, st["k"])
    nbi = np.where(dist <= rad_to_chord(r), nbi, n)
    nbi.sort(axis=1)  # presence points in input order; dropped ones (index n) at the end
    keep = nbi < n
    cnt = keep.sum(axis=1)
    rows, cols = np.nonzero(keep)
    pidx = nbi[rows, cols]
    cx, cy = local_frame(xyz[cids][rows], lon[cids][rows], lat[cids][rows], xyz[pidx])
    nv = marks.shape[0]
    un = np.full((nv, cids.size), np.nan)
    mk = np.full((nv, cids.size), np.nan)
    det: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    if "marked" in st["scores"]:
        vals = [np.where(marks[v, pidx], -1.0, 1.0) for v in range(nv)]
        mk, s, mu, sig = _scores(rows, cx, cy, vals, cids.size, r, mode, workers)
        det["marked"] = (s, mu, sig)
    if "unmarked" in st["scores"]:
        if st["presence"] == "all":  # the presence set and its values do not depend on the marks
            one, s, mu, sig = _scores(rows, cx, cy, [np.ones(rows.size)], cids.size, r, mode, workers)
            un = np.repeat(one, nv, axis=0)
            det["unmarked"] = (s, mu, sig)
        else:
            for v in range(nv):
                sel = marks[v, pidx]
                u, s, mu, sig = _scores(
                    rows[sel], cx[sel], cy[sel], [np.ones(int(sel.sum()))], cids.size, r, mode, workers
                )
                un[v] = u[0]
                if v == 0:
                    det["unmarked"] = (s, mu, sig)
    return cids, un, mk, cnt, det


def _run_batches(st: dict[str, Any], batches: list[np.ndarray]) -> list[BatchOut]:
    """One task of a distributed run (:func:`ssi_scores` with a ``mapper``): several batches of centres.

    ``st`` is the run's inputs, shared once per worker; the k-d tree of the points is built there on first use
    (the same tree as in one process, so the same neighbours).
    """
    if st.get("tree") is None:
        st["tree"] = cKDTree(st["xyz"])
    return [_run_batch(c, st) for c in batches]


def _mapped(mapper: Callable[..., Any], per: int, batches: Sequence[np.ndarray]) -> Iterator[BatchOut]:
    """:func:`_run_batch` of every batch as tasks of ``per`` batches on ``mapper`` (inputs from ``_STATE``, shared
    once with the workers, without the tree), yielded in batch order: the sums over batches (the permutations'
    means) then add up in the single-process order, bit for bit."""
    shared = {**{k: v for k, v in _STATE.items() if k != "tree"}, "workers": 1}
    groups = [list(batches[g : g + per]) for g in range(0, len(batches), per)]
    waiting: dict[int, list[BatchOut]] = {}
    nxt = 0
    for i, results in mapper(_run_batches, shared, groups, name="ssi"):
        waiting[i] = results
        while nxt in waiting:
            yield from waiting.pop(nxt)
            nxt += 1


# ------------------------------------------------------------------------------------------ results
def _mean(a: np.ndarray) -> float:
    return float(np.mean(a)) if a.size else float("nan")


@dataclass
class SSIResult:
    """Per-point SSI scores (NaN where a point was not a centre), their settings and the relative scores.

    ``unmarked_random``/``marked_random``: per centre, the mean score over the permutations (NaN without
    ``relative``); ``unmarked_perm``/``marked_perm`` (P,): each permutation's mean over the low-performance
    centres. ``details`` (with ``details=True``): per score, per point S, μ and σ (σ including any pad).
    """

    unmarked: np.ndarray
    marked: np.ndarray
    centre: np.ndarray
    bad: np.ndarray
    n_neighbours: np.ndarray
    radius_km: float
    k: int
    mode: str
    unmarked_presence: str
    relative: int = 0
    seed: int = 0
    unmarked_random: np.ndarray | None = None
    marked_random: np.ndarray | None = None
    unmarked_perm: np.ndarray | None = None
    marked_perm: np.ndarray | None = None
    details: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Means over the low-performance centres (the paper's summary), saturation, relative scores."""
        low = self.centre & self.bad
        out: dict[str, Any] = {"mode": self.mode, "unmarked_presence": self.unmarked_presence}
        for name, arr, perm in (
            ("unmarked_ssi", self.unmarked, self.unmarked_perm),
            ("marked_ssi", self.marked, self.marked_perm),
        ):
            vals = arr[low]
            vals = vals[np.isfinite(vals)]
            out[name] = _mean(vals)
            out[name.replace("_ssi", "_saturated")] = _mean(vals >= SSI_CAP - SATURATION_GAP)
            allv = arr[self.centre]
            out[name + "_all_centres"] = _mean(allv[np.isfinite(allv)])
            if self.relative > 0 and perm is not None:
                out[name + "_random"] = float(np.mean(perm))
                out[name + "_random_sd"] = float(np.std(perm, ddof=1)) if perm.size > 1 else float("nan")
                out[name + "_rel"] = out[name] - out[name + "_random"]
        out["n_centres"] = int(self.centre.sum())
        out["n_low_centres"] = int(low.sum())
        out["mean_neighbours"] = _mean(self.n_neighbours[self.centre].astype(float))
        if self.relative > 0:
            out["relative_permutations"] = int(self.relative)
            out["seed"] = int(self.seed)
        return out


def resolve_mode(mode: str, presence: str | None) -> tuple[str, str]:
    """Check ``mode`` and ``presence``; ``None`` presence → the mode's default."""
    if mode not in MODE_SPECS:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    presence = MODE_SPECS[mode].presence if presence is None else presence
    if presence not in PRESENCE:
        raise ValueError(f"unmarked presence must be one of {', '.join(PRESENCE)}, got {presence!r}")
    return mode, presence


def ssi_scores(
    lon: np.ndarray,
    lat: np.ndarray,
    bad: np.ndarray,
    *,
    radius_km: float = DEFAULT_RADIUS_KM,
    k: int = DEFAULT_K,
    centres: str | np.ndarray = "low",
    mode: str = DEFAULT_MODE,
    unmarked_presence: str | None = None,
    relative: int = 0,
    seed: int = 0,
    batch_size: int = 64,
    scores: tuple[str, ...] = ("unmarked", "marked"),
    details: bool = False,
    progress: Callable[[int], None] | None = None,
    n_jobs: int = 1,
    mapper: Callable[..., Any] | None = None,
    batches_per_task: int | None = None,
) -> SSIResult:
    """Unmarked (PyGBS ``pnp_ssi``) and marked (``rp_ssi``) SSI of every centre, and the relative scores.

    Args:
        lon, lat: (N,) degrees.
        bad: (N,) bool, low-performance flag per point (marked value −1; good points +1).
        radius_km, k: the neighbourhood (points within the radius among the k nearest).
        centres: ``"low"`` (the paper's summary uses these), ``"all"``, or an (N,) boolean mask.
        mode: ``"exact"`` or ``"pygbs"`` (see the module docstring).
        unmarked_presence: ``"low"`` or ``"all"``; ``None`` = the mode's default.
        relative: number of seeded permutations of ``bad`` scored at the same centres (0 = none).
        seed: seed of the permutations.
        details: also keep S, μ, σ per centre and score (``SSIResult.details``).
        progress: optional callable(n_done) called after each batch.
        n_jobs: worker processes sharing the batches; −1 = all CPU cores. Results do not depend on it.
        mapper: run the batches elsewhere instead, ``batches_per_task`` per task (e.g. on Dask workers; see
            :mod:`geoenc.workflows.distributed`): the points are shared with the workers once, each task scores
            its centres exactly as one process would, so the scores are the same bit for bit.
    """
    mode, presence = resolve_mode(mode, unmarked_presence)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    bad = np.asarray(bad, dtype=bool)
    n = lon.size
    if isinstance(centres, str):
        if centres == "low":
            cmask = bad.copy()
        elif centres == "all":
            cmask = np.ones(n, dtype=bool)
        else:
            raise ValueError("centres must be 'low', 'all' or a boolean mask")
    else:
        cmask = np.asarray(centres, dtype=bool)
        if cmask.shape != (n,):
            raise ValueError(f"the centre mask must have one entry per point ({n}), got shape {cmask.shape}")
    if not 1 <= k <= 100_000:  # local indices must fit 20 bits (m ≈ 6k points per neighbourhood)
        raise ValueError(f"k must be between 1 and 100000, got {k}")
    if relative < 0:
        raise ValueError(f"relative must be 0 or more permutations, got {relative}")
    r = km_to_rad(radius_km)
    if not 0 < r < np.pi / 2:
        raise ValueError("radius must be between 0 and a quarter of the Earth's circumference")
    rng = np.random.default_rng(seed)
    marks = np.vstack([bad] + [rng.permutation(bad) for _ in range(relative)])
    xyz = lonlat_to_xyz(lon, lat)
    unmarked = np.full(n, np.nan)
    marked = np.full(n, np.nan)
    un_rand = np.full(n, np.nan)
    mk_rand = np.full(n, np.nan)
    perm_sum = {"unmarked": np.zeros(relative), "marked": np.zeros(relative)}
    det = {s: tuple(np.full(n, np.nan) for _ in range(3)) for s in scores} if details else {}
    nn_count = np.full(n, -1, dtype=np.int64)
    low = cmask & bad
    ids = np.flatnonzero(cmask)
    batches = [ids[b0 : b0 + batch_size] for b0 in range(0, ids.size, batch_size)]
    jobs = _n_jobs(n_jobs, len(batches))
    _STATE.update(
        lon=lon,
        lat=lat,
        marks=marks,
        xyz=xyz,
        tree=cKDTree(xyz) if mapper is None else None,  # a mapper's workers build their own
        k=int(min(k, n)),
        r=r,
        mode=mode,
        scores=tuple(scores),
        presence=presence,
        workers=-1 if jobs == 1 else 1,
    )
    pool = None
    try:
        results: Iterable[BatchOut]
        if mapper is not None:
            results = _mapped(mapper, batches_per_task or BATCHES_PER_TASK, batches)
        elif jobs == 1:
            results = map(_run_batch, batches)
        else:
            shared = {k: v for k, v in _STATE.items() if k != "tree"}
            pool = _start_pool(jobs, shared)
            results = pool.imap(_run_batch, batches)
        done = 0
        for cids, un, mk, cnt, bdet in results:
            unmarked[cids], marked[cids], nn_count[cids] = un[0], mk[0], cnt
            if relative:
                un_rand[cids], mk_rand[cids] = un[1:].mean(axis=0), mk[1:].mean(axis=0)
                lowb = low[cids]
                perm_sum["unmarked"] += un[1:, lowb].sum(axis=1)
                perm_sum["marked"] += mk[1:, lowb].sum(axis=1)
            for s, arrs in bdet.items():
                if s in det:
                    for dst, src in zip(det[s], arrs, strict=True):
                        dst[cids] = src
            done += cids.size
            if progress is not None:
                progress(done)
        if pool is not None:
            pool.close()
    finally:
        if pool is not None:
            pool.terminate()  # no-op after close() once the workers have exited; stops them on an error
            pool.join()
        _STATE.clear()
    n_low = max(int(low.sum()), 1)
    return SSIResult(
        unmarked=unmarked,
        marked=marked,
        centre=cmask,
        bad=bad,
        n_neighbours=nn_count,
        radius_km=float(radius_km),
        k=int(k),
        mode=mode,
        unmarked_presence=presence,
        relative=int(relative),
        seed=int(seed),
        unmarked_random=un_rand if relative else None,
        marked_random=mk_rand if relative else None,
        unmarked_perm=perm_sum["unmarked"] / n_low if relative else None,
        marked_perm=perm_sum["marked"] / n_low if relative else None,
        details={s: dict(zip(("S", "mu", "sigma"), arrs, strict=True)) for s, arrs in det.items()},
    )
