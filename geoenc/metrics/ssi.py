"""Spatial self-information (SSI) geo-bias scores, batched and fast.

The procedure is the one of TorchSpatial's geo-bias code (seai-lab/PyGBS, as read; see
``docs/geobias.md``), evaluated for every centre without dense matrices or a per-centre Python loop:

1. **Neighbourhood** of a centre: the points within ``radius`` (great-circle) among its ``k`` nearest
   (centre included). Default radius 0.05 rad (≈ 318.6 km), the value of the committed PyGBS results.
2. **Background** ("non-presence") points: a polar concentric grid around the centre with density
   ρ = ⌈5n/(πr²)⌉ points per square radian (n presence points, r in radians), spacing δ = 1/√ρ,
   rings i = 1…⌈r/δ⌉, ring i holding ⌈2πi⌉ points at angles −π + 2πj/⌈2πi⌉ (measured from east,
   counter-clockwise). Everything is done in the centre's azimuthal-equidistant plane (x east,
   y north, distances = great-circle distance to the centre), in units of δ. In these units the grid
   is the same for every centre and the grid for R rings is a prefix of the grid for more rings, so
   the grid, its k-d tree and its own 4-NN graph are computed once.
3. **Values**: unmarked — presence 1, background 0; marked — presence +1 (good) / −1 (bad),
   background 0.
4. **Weights**: directed 4-nearest-neighbour 0/1 graph over presence ∪ background (self excluded).
   Ties are broken deterministically: squared distances are quantised to 2⁻³² δ² and equal ones are
   ordered by local index (presence points in input order first, then grid points ring by ring).
5. **Statistic**: S = zᵀWz, z = values − mean(values) (unscaled Moran numerator).
6. **Null**: S ~ N(μ, σ²) with μ = E[S] and σ² = Var[S] under random permutation of the m values over
   the m sites (Cliff–Ord moments with S0, S1, S2 of W; derivation in :mod:`geoenc.metrics.moran`),
   and, as in PyGBS, 1.0 added to σ. p = 2Φ(min(S, 2μ − S); μ, σ), SSI = −log(p + 1e-256).

Deviations from PyGBS (documented in docs/geobias.md): the null moments are the exact permutation
moments (PyGBS uses join-count style approximations for k = 4); the 4-NN graph is built in the
azimuthal-equidistant plane (PyGBS: haversine on lat/lon; the two agree to O(r²) ≈ 0.25 % in distance
at r = 0.05 rad); the unmarked score's presence points are, by default, the *low-performance* points
of the neighbourhood (``unmarked_presence="low"``); ``"all"`` uses every neighbourhood point like the
PyGBS scripts, which makes the unmarked score independent of the model's errors.

Speed: the 4-NN graph of each union is assembled from (a) the cached grid-only graph, (b) one k-d tree
query of all presence points of a batch of centres against the universal grid and (c) one query of the
presence points among themselves (centres offset far apart in one tree); then S, S1, S2 come from
``bincount`` over the whole batch. Rows whose 4 neighbours cannot be certified from the candidates
(near-ties beyond the candidate list) are recomputed by brute force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import ndtr

from geoenc.metrics.moran import numerator_moments
from geoenc.metrics.spatial import EARTH_RADIUS_KM, km_to_rad, lonlat_to_xyz, rad_to_chord

DEFAULT_RADIUS_RAD = 0.05
DEFAULT_RADIUS_KM = DEFAULT_RADIUS_RAD * EARTH_RADIUS_KM  # ≈ 318.55 km
DEFAULT_K = 400
N_WEIGHT_NEIGHBOURS = 4
SIGMA_PAD = 1.0  # as in PyGBS, +1.0 added to σ
P_FLOOR = 1e-256

QSCALE = float(2**32)  # squared-distance quantum: 2^-32 δ²
QMAX = 2**40
IDX_BITS = 20
IDX_MASK = (1 << IDX_BITS) - 1
BIG = np.iinfo(np.int64).max
KG = 11  # grid candidates per presence point (at most 10 grid points lie within any 4th-NN distance)
KP = 5  # presence candidates per presence point (self included)
UB = 2.0  # search radius (δ units) for grid candidates; every 4th-NN distance in the grid is below 1.6
MARGIN = 64  # quanta of safety when certifying candidate lists (k-d tree rounding)
BLOCK = 64  # centres per row of the offset layout in the batched presence tree
BATCHES_PER_TASK = 8  # batches of centres per task when they are split across workers (``mapper``): ~0.5–5 s each


def quantize(d2: np.ndarray) -> np.ndarray:
    """Squared distance (δ² units) → int64 key used for ordering and tie-breaking."""
    return np.minimum(np.rint(np.asarray(d2) * QSCALE), QMAX).astype(np.int64)


# --------------------------------------------------------------------------------------------- grid
def ring_counts(r_max: int) -> np.ndarray:
    """``⌈2πi⌉`` for rings i = 1…r_max."""
    return np.ceil(2.0 * np.pi * np.arange(1, r_max + 1)).astype(np.int64)


def grid_size(rings: np.ndarray | int) -> np.ndarray:
    """Number of background points for ``rings`` rings (vectorised)."""
    rings = np.asarray(rings, dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(ring_counts(int(rings.max()) if rings.size else 0))))
    return cum[rings]


@lru_cache(maxsize=8)
def unit_grid(r_max: int) -> np.ndarray:
    """``(G, 2)`` background grid in δ units for rings 1…r_max (ring by ring, angle from −π)."""
    counts = ring_counts(r_max)
    ring = np.repeat(np.arange(1, r_max + 1), counts)
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    j = np.arange(counts.sum()) - np.repeat(start, counts)
    theta = -np.pi + 2.0 * np.pi * j / np.repeat(counts, counts)
    g = np.column_stack((ring * np.cos(theta), ring * np.sin(theta)))
    g.setflags(write=False)
    return g


@lru_cache(maxsize=8)
def _unit_grid_tree(r_max: int) -> cKDTree:
    return cKDTree(unit_grid(r_max))


def _select4(cand: np.ndarray, q: np.ndarray):
    """Pick, per row, the 4 candidates with the smallest (q, local index); ``cand < 0`` = none."""
    comp = np.where(cand >= 0, (q << IDX_BITS) | np.maximum(cand, 0), BIG)
    kth = N_WEIGHT_NEIGHBOURS - 1
    if comp.shape[1] > N_WEIGHT_NEIGHBOURS:
        comp = np.partition(comp, kth, axis=1)  # the 4 smallest first, the 4th smallest at column 3
    top = comp[:, :N_WEIGHT_NEIGHBOURS]
    has4 = top[:, kth] != BIG
    return top & IDX_MASK, top[:, kth] >> IDX_BITS, has4


@lru_cache(maxsize=64)
def _grid_graph(rings: int):
    """4-NN graph of the background grid alone: (nbr (G,4) grid indices, q of each, q of the 4th)."""
    g = unit_grid(rings)
    n = g.shape[0]
    k = min(KG, n)
    _, idx = cKDTree(g).query(g, k=k)
    d = g[idx] - g[:, None, :]
    q = quantize(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1])
    cand = np.where(idx == np.arange(n)[:, None], -1, idx)
    nbr, q4, has4 = _select4(cand, q)
    ok = has4 & ((q4 + MARGIN < q[:, -1]) | (k == n))
    for i in np.flatnonzero(~ok):
        nbr[i] = _brute4(g, i)
    qn = quantize(((g[nbr] - g[:, None, :]) ** 2).sum(axis=2))
    return nbr, qn, qn.max(axis=1)


@lru_cache(maxsize=8)
def _stacked_grid_graphs(r_max: int):
    """Grid graphs for rings 1…r_max stacked in one table (offset per ring count) for vectorised lookup.

    Returns (offsets, neighbours, their q, max q of the 4th neighbour per ring count, q of the 4th per row).
    """
    sizes = grid_size(np.arange(r_max + 1))
    offsets = np.concatenate(([0], np.cumsum(sizes)))[:-1]  # offsets[R] = start of the R-ring table
    nbr = np.zeros((int(sizes.sum()), 4), dtype=np.int64)
    qn = np.zeros((int(sizes.sum()), 4), dtype=np.int64)
    q4max = np.zeros(r_max + 1, dtype=np.int64)
    for rings in range(1, r_max + 1):
        a, b, c = _grid_graph(rings)
        o = offsets[rings]
        nbr[o : o + a.shape[0]] = a
        qn[o : o + a.shape[0]] = b
        q4max[rings] = c.max()
    return offsets, nbr, qn, q4max, qn.max(axis=1)


def _brute4(points: np.ndarray, i: int) -> np.ndarray:
    """Exact 4 nearest (quantised distance, then index) of row i among ``points`` (self excluded)."""
    d = points - points[i]
    q = quantize(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    order = np.lexsort((np.arange(points.shape[0]), q))
    order = order[order != i]
    return order[:N_WEIGHT_NEIGHBOURS]


# ------------------------------------------------------------------------------------------ batch core
def _ssi_batch(
    cid: np.ndarray, px: np.ndarray, py: np.ndarray, pv: np.ndarray, n_c: np.ndarray, r: float, workers: int = -1
):
    """SSI for C centres from their presence points.

    ``cid`` (Np,) centre of each presence point, sorted, presence points of a centre in their final order;
    ``px, py`` azimuthal-equidistant coordinates in radians; ``pv`` presence values; ``n_c`` (C,) counts.
    Returns (ssi, S, mu, sigma) arrays of shape (C,). Centres with no presence point get SSI 0.
    """
    C = n_c.size
    ssi = np.zeros(C)
    s_out = np.zeros(C)
    mu_out = np.zeros(C)
    sig_out = np.full(C, SIGMA_PAD)
    active = n_c > 0
    if not active.any():
        return ssi, s_out, mu_out, sig_out
    # drop empty centres (no presence point contributes rows)
    remap = np.cumsum(active) - 1
    cid = remap[cid]
    n_c = n_c[active]
    C = n_c.size
    Np = cid.size

    rho = np.ceil(5.0 * n_c / (np.pi * r * r))
    delta = 1.0 / np.sqrt(rho)
    rings = np.ceil(r / delta).astype(np.int64)
    g_c = grid_size(rings)
    m_c = n_c + g_c
    ux = px / delta[cid]
    uy = py / delta[cid]
    pstart = np.concatenate(([0], np.cumsum(n_c)[:-1]))
    plocal = np.arange(Np) - pstart[cid]
    r_max = int(rings.max())
    ug = unit_grid(r_max)
    n_ug = ug.shape[0]
    offsets, snbr, sqn, q4max, q4_tab = _stacked_grid_graphs(r_max)

    # (a) grid candidates of every presence point
    pts = np.column_stack((ux, uy))
    _, ig = _unit_grid_tree(r_max).query(pts, k=KG, distance_upper_bound=UB, workers=workers)
    returned = ig < n_ug
    igc = np.where(returned, ig, 0)
    dx = ug[igc, 0] - ux[:, None]
    dy = ug[igc, 1] - uy[:, None]
    qg = quantize(dx * dx + dy * dy)
    gc_row = g_c[cid][:, None]
    validg = returned & (igc < gc_row)
    full_g = returned[:, -1]
    qlast_g = np.where(full_g, qg[:, -1], quantize(UB * UB))

    # (b) presence candidates: all centres in one tree, blocks offset far apart
    off = 4.0 * (r_max + 2)
    bx = (np.arange(C) % BLOCK) * off
    by = (np.arange(C) // BLOCK) * off
    kp = min(KP, Np)
    shifted = np.column_stack((ux + bx[cid], uy + by[cid]))
    _, ip = cKDTree(shifted, balanced_tree=False).query(shifted, k=kp, workers=workers)
    ip = ip.reshape(Np, kp)
    ret_p = ip < Np
    ipc = np.where(ret_p, ip, 0)
    same = ret_p & (cid[ipc] == cid[:, None])
    validp = same & (ipc != np.arange(Np)[:, None])
    dx = ux[ipc] - ux[:, None]
    dy = uy[ipc] - uy[:, None]
    qp = quantize(dx * dx + dy * dy)
    complete_p = (~same).any(axis=1) | (n_c[cid] <= kp)
    qlast_p = np.where(complete_p, BIG - MARGIN - 1, qp[:, -1])

    cand = np.concatenate((np.where(validg, n_c[cid][:, None] + igc, -1), np.where(validp, plocal[ipc], -1)), axis=1)
    nbr_p, q4_p, has4 = _select4(cand, np.concatenate((qg, qp), axis=1))
    ok = has4 & (q4_p + MARGIN < np.minimum(qlast_g, qlast_p))

    def union(c):
        s = pstart[c]
        return np.concatenate((pts[s : s + n_c[c]], ug[: g_c[c]]))

    for i in np.flatnonzero(~ok):
        nbr_p[i] = _brute4(union(cid[i]), plocal[i])

    # (c) grid rows: presence points closer than a grid point's 4th grid neighbour replace neighbours
    base_off = offsets[rings]
    lut = np.where(validg, base_off[cid][:, None] + igc, 0)
    pair = validg & (qg <= q4_tab[lut])
    incomplete = full_g & (qg[:, -1] <= q4max[rings[cid]] + MARGIN)
    pr, pk = np.nonzero(pair)
    pair_p, pair_g, pair_q = pr, igc[pr, pk], qg[pr, pk]
    extra = []
    for i in np.flatnonzero(incomplete):  # rare: search the whole grid of this centre
        c = cid[i]
        gg = ug[: g_c[c]] - pts[i]
        qq = quantize(gg[:, 0] * gg[:, 0] + gg[:, 1] * gg[:, 1])
        hit = np.flatnonzero(qq <= q4_tab[base_off[c] + np.arange(g_c[c])])
        extra.append((np.full(hit.size, i), hit, qq[hit]))
    if extra:
        keep = ~incomplete[pair_p]
        pair_p = np.concatenate([pair_p[keep]] + [e[0] for e in extra])
        pair_g = np.concatenate([pair_g[keep]] + [e[1] for e in extra])
        pair_q = np.concatenate([pair_q[keep]] + [e[2] for e in extra])

    # global row numbering: per centre, presence rows then grid rows
    rstart = np.concatenate(([0], np.cumsum(m_c)[:-1]))
    T = int(m_c.sum())
    rc = np.repeat(np.arange(C), m_c)
    nb = np.empty((T, 4), dtype=np.int64)
    prow = rstart[cid] + plocal
    nb[prow] = nbr_p + rstart[cid][:, None]
    gcid = np.repeat(np.arange(C), g_c)
    gstart = np.concatenate(([0], np.cumsum(g_c)[:-1]))
    gg = np.arange(gcid.size) - gstart[gcid]
    grow = rstart[gcid] + n_c[gcid] + gg
    gshift = rstart + n_c
    nb[grow] = snbr[base_off[gcid] + gg] + gshift[gcid][:, None]

    if pair_p.size:
        pc = cid[pair_p]
        prow_g = rstart[pc] + n_c[pc] + pair_g  # affected grid row
        order = np.argsort(prow_g)  # group by grid row; _select4 orders candidates exactly
        prow_g, pair_q, pl = prow_g[order], pair_q[order], plocal[pair_p][order]
        pc = pc[order]
        first = np.concatenate(([True], prow_g[1:] != prow_g[:-1]))
        grp = np.cumsum(first) - 1
        starts = np.flatnonzero(first)
        rank = np.arange(prow_g.size) - starts[grp]
        n_aff = starts.size
        width = int(rank.max()) + 1
        aff_rows = prow_g[starts]
        aff_c = pc[starts]
        aff_g = aff_rows - rstart[aff_c] - n_c[aff_c]
        cand = np.full((n_aff, 4 + width), -1, dtype=np.int64)
        qq = np.zeros((n_aff, 4 + width), dtype=np.int64)
        cand[:, :4] = snbr[base_off[aff_c] + aff_g] + n_c[aff_c][:, None]
        qq[:, :4] = sqn[base_off[aff_c] + aff_g]
        cand[grp, 4 + rank] = pl
        qq[grp, 4 + rank] = pair_q
        sel, _, _ = _select4(cand, qq)
        nb[aff_rows] = sel + rstart[aff_c][:, None]

    # statistic and permutation moments, per centre
    val = np.zeros(T)
    val[prow] = pv
    mean = np.bincount(rc, val, minlength=C) / m_c
    z = val - mean[rc]
    s_c = np.bincount(rc, z * z[nb].sum(axis=1), minlength=C)
    nb32 = nb.astype(np.int32) if T < 2**31 else nb
    indeg = np.bincount(nb32.ravel(), minlength=T)
    # edge i→j is mutual when i is among j's 4 neighbours (at most once): count matches per row
    mutual = np.count_nonzero(nb32[nb32] == np.arange(T, dtype=nb32.dtype)[:, None, None], axis=(1, 2))
    s0 = 4.0 * m_c
    s1 = s0 + np.bincount(rc, mutual, minlength=C)
    s2 = np.bincount(rc, (4.0 + indeg) ** 2, minlength=C)
    z2 = z * z
    m2 = np.bincount(rc, z2, minlength=C) / m_c
    m4 = np.bincount(rc, z2 * z2, minlength=C) / m_c
    with np.errstate(divide="ignore", invalid="ignore"):
        b2 = np.where(m2 > 0, m4 / (m2 * m2), 0.0)
    mu, var = numerator_moments(m_c, s0, s1, s2, m2, b2)
    sigma = np.sqrt(var) + SIGMA_PAD
    low = np.minimum(s_c, 2.0 * mu - s_c)
    p = 2.0 * ndtr((low - mu) / sigma)
    ssi[active] = -np.log(p + P_FLOOR)
    s_out[active] = s_c
    mu_out[active] = mu
    sig_out[active] = sigma
    return ssi, s_out, mu_out, sig_out


# ------------------------------------------------------------------------------------------ public API
def local_frame(xyz_c: np.ndarray, lon_c: np.ndarray, lat_c: np.ndarray, xyz_p: np.ndarray):
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


_STATE: dict = {}  # the inputs of the running ssi_scores call (inherited by forked workers)


def _n_jobs(n_jobs: int, n_batches: int) -> int:
    import os

    if n_jobs is None or n_jobs == 0:
        n_jobs = 1
    if n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    if os.name != "posix":
        n_jobs = 1
    return max(1, min(n_jobs, n_batches))


def _run_batch(cids: np.ndarray, st: dict[str, Any] | None = None):
    """Both scores for one batch of centre indices (reads the inputs from ``st``, by default ``_STATE``)."""
    st = _STATE if st is None else st
    xyz, n = st["xyz"], st["xyz"].shape[0]
    lon, lat, bad, r = st["lon"], st["lat"], st["bad"], st["r"]
    chord_r = float(rad_to_chord(r))
    dist, nbi = st["tree"].query(xyz[cids], k=st["k"], workers=st["workers"])
    nbi = nbi.reshape(cids.size, st["k"])
    dist = dist.reshape(cids.size, st["k"])
    nbi = np.where(dist <= chord_r, nbi, n)
    nbi.sort(axis=1)  # presence points in input order; dropped ones (index n) at the end
    keep = nbi < n
    cnt = keep.sum(axis=1)
    rows, cols = np.nonzero(keep)
    pidx = nbi[rows, cols]
    cx, cy = local_frame(xyz[cids][rows], lon[cids][rows], lat[cids][rows], xyz[pidx])
    un = np.full(cids.size, np.nan)
    mk = np.full(cids.size, np.nan)
    if "marked" in st["scores"]:
        mk = _ssi_batch(rows, cx, cy, np.where(bad[pidx], -1.0, 1.0), cnt, r, st["workers"])[0]
    if "unmarked" in st["scores"]:
        sel = np.ones(rows.size, dtype=bool) if st["presence"] == "all" else bad[pidx]
        c_un = np.bincount(rows[sel], minlength=cids.size)
        un = _ssi_batch(rows[sel], cx[sel], cy[sel], np.ones(int(sel.sum())), c_un, r, st["workers"])[0]
    return cids, un, mk, cnt


def _run_batches(st: dict[str, Any], batches: list[np.ndarray]) -> list[Any]:
    """One task of a distributed run (:func:`ssi_scores` with a ``mapper``): several batches of centres.

    ``st`` is the run's inputs, shared once per worker; the k-d tree of the points is built there on first use
    (the same tree as in one process, so the same neighbours).
    """
    if st.get("tree") is None:
        st["tree"] = cKDTree(st["xyz"])
    return [_run_batch(c, st) for c in batches]


def _mapped(mapper: Callable[..., Any], per: int, batches: Sequence[np.ndarray]) -> Iterator[Any]:
    """:func:`_run_batch` of every batch as tasks of ``per`` batches on ``mapper`` (inputs from ``_STATE``, shared
    once with the workers, without the tree), in completion order."""
    shared = {**{k: v for k, v in _STATE.items() if k != "tree"}, "workers": 1}
    groups = [list(batches[g : g + per]) for g in range(0, len(batches), per)]
    for _, results in mapper(_run_batches, shared, groups, name="ssi"):
        yield from results


@dataclass
class SSIResult:
    """Per-point SSI scores (NaN where a point was not evaluated as a centre) and their settings."""

    unmarked: np.ndarray
    marked: np.ndarray
    centre: np.ndarray
    bad: np.ndarray
    n_neighbours: np.ndarray
    radius_km: float
    k: int
    unmarked_presence: str

    def summary(self) -> dict:
        """The paper's summary: mean score over low-performance centres (and over all evaluated centres)."""
        low = self.centre & self.bad
        out = {}
        for name, arr in (("unmarked_ssi", self.unmarked), ("marked_ssi", self.marked)):
            out[name] = float(np.nanmean(arr[low])) if low.any() else float("nan")
            out[name + "_all_centres"] = float(np.nanmean(arr[self.centre])) if self.centre.any() else float("nan")
        out["n_centres"] = int(self.centre.sum())
        out["n_low_centres"] = int(low.sum())
        return out


def ssi_scores(
    lon: np.ndarray,
    lat: np.ndarray,
    bad: np.ndarray,
    *,
    radius_km: float = DEFAULT_RADIUS_KM,
    k: int = DEFAULT_K,
    centres: str | np.ndarray = "low",
    unmarked_presence: str = "low",
    batch_size: int = 64,
    scores: tuple[str, ...] = ("unmarked", "marked"),
    progress=None,
    n_jobs: int = 1,
    mapper: Callable[..., Any] | None = None,
    batches_per_task: int | None = None,
) -> SSIResult:
    """Unmarked (base, PyGBS ``pnp_ssi``) and marked (relative, ``rp_ssi``) SSI of every centre.

    ``bad``: boolean low-performance flag per point (marked value −1; good points +1).
    ``centres``: ``"low"`` (the paper's summary uses these), ``"all"``, or a boolean mask.
    ``unmarked_presence``: ``"low"`` (presence = low-performance neighbours) or ``"all"`` (PyGBS scripts).
    ``progress``: optional callable(n_done) called after each batch.
    ``n_jobs``: processes (fork) sharing the batches; −1 = all CPU cores. Results do not depend on it.
    ``mapper``: run the batches elsewhere instead, ``batches_per_task`` per task (e.g. on Dask workers; see
    :mod:`geoenc.workflows.distributed`): the points are shared with the workers once, each task scores its
    centres exactly as one process would, so the scores are the same bit for bit.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    bad = np.asarray(bad, dtype=bool)
    n = lon.size
    if unmarked_presence not in ("low", "all"):
        raise ValueError("unmarked_presence must be 'low' or 'all'")
    if isinstance(centres, str):
        if centres == "low":
            cmask = bad.copy()
        elif centres == "all":
            cmask = np.ones(n, dtype=bool)
        else:
            raise ValueError("centres must be 'low', 'all' or a boolean mask")
    else:
        cmask = np.asarray(centres, dtype=bool)
    if not 1 <= k <= 100_000:  # local indices must fit IDX_BITS (m ≈ 6k points per neighbourhood)
        raise ValueError(f"k must be between 1 and 100000, got {k}")
    r = km_to_rad(radius_km)
    if not 0 < r < np.pi / 2:
        raise ValueError("radius must be between 0 and a quarter of the Earth's circumference")
    keff = int(min(k, n))
    xyz = lonlat_to_xyz(lon, lat)
    unmarked = np.full(n, np.nan)
    marked = np.full(n, np.nan)
    nn_count = np.full(n, -1, dtype=np.int64)
    ids = np.flatnonzero(cmask)
    batches = [ids[b0 : b0 + batch_size] for b0 in range(0, ids.size, batch_size)]
    jobs = _n_jobs(n_jobs, len(batches))
    _STATE.update(
        lon=lon,
        lat=lat,
        bad=bad,
        xyz=xyz,
        tree=cKDTree(xyz) if mapper is None else None,  # a mapper's workers build their own
        k=keff,
        r=r,
        scores=tuple(scores),
        presence=unmarked_presence,
        workers=-1 if jobs == 1 else 1,
    )
    pool = None
    try:
        if mapper is not None:
            results = _mapped(mapper, batches_per_task or BATCHES_PER_TASK, batches)
        elif jobs == 1:
            results = map(_run_batch, batches)
        else:
            import multiprocessing as mp

            pool = mp.get_context("fork").Pool(jobs)
            results = pool.imap(_run_batch, batches)
        done = 0
        for cids, un, mk, cnt in results:
            unmarked[cids], marked[cids], nn_count[cids] = un, mk, cnt
            done += cids.size
            if progress is not None:
                progress(done)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _STATE.clear()
    return SSIResult(
        unmarked=unmarked,
        marked=marked,
        centre=cmask,
        bad=bad,
        n_neighbours=nn_count,
        radius_km=float(radius_km),
        k=int(k),
        unmarked_presence=unmarked_presence,
    )
