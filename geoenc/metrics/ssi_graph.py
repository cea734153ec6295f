"""The 4-nearest-neighbour graphs behind the SSI scores, built for many centres at once.

For each centre the SSI compares its *presence* points (the data points of its neighbourhood) with a
*background* grid, over the directed 4-nearest-neighbour graph W of presence ∪ background
(see :mod:`geoenc.metrics.ssi`). This module builds W for a batch of centres without dense matrices
or a per-centre loop.

**Frame.** Everything is expressed in the centre's azimuthal-equidistant (AEQD) plane: x east, y north,
distance to the centre = great-circle distance (radians), then in units of the grid spacing δ.

**Background grid** (PyGBS's construction, in its orientation): density ρ = ⌈5n/(πr²)⌉ points per square
radian for n presence points and radius r (radians), spacing δ = 1/√ρ, rings i = 1…⌈r/δ⌉ at distance iδ
from the centre, ring i holding ⌈2πi⌉ equally spaced points, the first one due **north**, then
counter-clockwise (north → west → south → east). PyGBS builds the grid around the north pole at
longitudes −π + 2πj/⌈2πi⌉ and rotates the pole onto the centre; that rotation sends longitude −π to the
centre's north, which is the orientation used here. In δ units the grid is the same for every centre and
the grid for R rings is a prefix of the grid for more rings, so it, its k-d tree and its own 4-NN graph
are computed once.

**Distances** (``metric``):

- ``"plane"``: Euclidean distance in the AEQD plane (fast; used by the ``exact`` SSI mode);
- ``"sphere"``: great-circle distance, as PyGBS (haversine ball tree). Candidates are found in the
  plane and re-ranked on the sphere. Inside a cap of angular radius ρ the AEQD map never shortens a
  distance and lengthens it by at most ρ/sin ρ, so every decision is certified with that factor
  (ρ = r + δ bounds every point); rows that cannot be certified are recomputed by brute force.

**Ties** are broken deterministically: squared distances (δ² units) are quantised to 2⁻³² and equal ones
are ordered by local index (presence points in the order given, then grid points ring by ring).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

N_WEIGHT_NEIGHBOURS = 4
QSCALE = float(2**32)  # squared-distance quantum: 2^-32 δ²
QMAX = 2**40
IDX_BITS = 20
IDX_MASK = (1 << IDX_BITS) - 1
BIG = np.iinfo(np.int64).max
KG = 11  # grid candidates per presence point (at most 10 grid points lie within any 4th-NN distance)
KP = 5  # presence candidates per presence point (self included); a ball query completes the rest
KW = 8  # grid candidates per grid point kept for the spherical re-ranking of grid rows
UB = 2.0  # search radius (δ units) for grid candidates; every 4th-NN distance in the grid is below 1.6
MARGIN = 64  # quanta of safety when certifying candidate lists (k-d tree rounding)
BLOCK = 64  # centres per row of the offset layout in the batched presence tree
FIRST_ANGLE = np.pi / 2  # first point of every ring: due north (PyGBS's orientation)


def quantize(d2: np.ndarray | float) -> np.ndarray:
    """Squared distance (δ² units) → int64 key used for ordering and tie-breaking."""
    return np.minimum(np.rint(np.asarray(d2) * QSCALE), QMAX).astype(np.int64)


def sphere_key(
    ax: np.ndarray | float, ay: np.ndarray | float, bx: np.ndarray, by: np.ndarray, delta: np.ndarray | float
) -> np.ndarray:
    """Quantised squared great-circle distance (δ² units) between AEQD points a and b (radians).

    The AEQD point (x, y) with ρ = |(x, y)| is the unit vector (x·sinρ/ρ, y·sinρ/ρ, cos ρ) in a frame with
    the centre at the pole; the chord between the two vectors gives the central angle.
    """
    ra = np.hypot(ax, ay)
    rb = np.hypot(bx, by)
    sa = np.sinc(ra / np.pi)
    sb = np.sinc(rb / np.pi)
    dx = ax * sa - bx * sb
    dy = ay * sa - by * sb
    dz = 2.0 * np.sin(0.5 * (ra + rb)) * np.sin(0.5 * (ra - rb))  # cos rb − cos ra, without cancellation
    chord = np.sqrt(dx * dx + dy * dy + dz * dz)
    theta = 2.0 * np.arcsin(np.minimum(0.5 * chord, 1.0))
    return quantize((theta / delta) ** 2)


def shrink2(r: float, delta: np.ndarray) -> np.ndarray:
    """(sin ρ/ρ)² with ρ = r + δ: the least ratio great-circle²/plane² for points of one neighbourhood."""
    k = np.sinc((r + np.asarray(delta)) / np.pi)
    return k * k


# --------------------------------------------------------------------------------------------- grid
def ring_counts(r_max: int) -> np.ndarray:
    """``⌈2πi⌉`` for rings i = 1…r_max."""
    out: np.ndarray = np.ceil(2.0 * np.pi * np.arange(1, r_max + 1)).astype(np.int64)
    return out


def grid_size(rings: np.ndarray | int) -> np.ndarray:
    """Number of background points for ``rings`` rings (vectorised)."""
    rings = np.asarray(rings, dtype=np.int64)
    cum = np.concatenate(([0], np.cumsum(ring_counts(int(rings.max()) if rings.size else 0))))
    out: np.ndarray = cum[rings]
    return out


def grid_rings(n: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid spacing δ (radians) and ring count for ``n`` presence points within radius ``r`` (radians)."""
    rho = np.ceil(5.0 * np.asarray(n) / (np.pi * r * r))
    delta = 1.0 / np.sqrt(rho)
    return delta, np.ceil(r / delta).astype(np.int64)


@lru_cache(maxsize=8)
def unit_grid(r_max: int) -> np.ndarray:
    """``(G, 2)`` background grid in δ units (x east, y north) for rings 1…r_max, ring by ring."""
    counts = ring_counts(r_max)
    ring = np.repeat(np.arange(1, r_max + 1), counts)
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    j = np.arange(counts.sum()) - np.repeat(start, counts)
    theta = FIRST_ANGLE + 2.0 * np.pi * j / np.repeat(counts, counts)
    g = np.column_stack((ring * np.cos(theta), ring * np.sin(theta)))
    g.setflags(write=False)
    return g


@lru_cache(maxsize=8)
def _unit_grid_tree(r_max: int) -> cKDTree:
    return cKDTree(unit_grid(r_max))


def _select(
    cand: np.ndarray, q: np.ndarray, width: int = N_WEIGHT_NEIGHBOURS, ordered: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the ``width`` candidates with the smallest (q, local index); ``cand < 0`` = none.

    Returns (indices, nearest first if ``ordered``; q of the last kept; whether the row had ``width``).
    """
    comp = np.where(cand >= 0, (q << IDX_BITS) | np.maximum(cand, 0), BIG)
    kth = width - 1
    if comp.shape[1] > width:
        comp = np.partition(comp, kth, axis=1)  # the ``width`` smallest first, the largest of them at kth
    comp = comp[:, :width]
    if ordered:
        comp = np.sort(comp, axis=1)
    last = comp.max(axis=1)
    return comp & IDX_MASK, last >> IDX_BITS, last != BIG


def _brute(points: np.ndarray, i: int, width: int = N_WEIGHT_NEIGHBOURS) -> np.ndarray:
    """Exact ``width`` nearest (plane, quantised, then index) of row i among ``points`` (self excluded)."""
    d = points - points[i]
    q = quantize(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    order = np.lexsort((np.arange(points.shape[0]), q))
    out: np.ndarray = order[order != i][:width]
    return out


def _brute_sphere(points_rad: np.ndarray, i: int, delta: float) -> np.ndarray:
    """Exact 4 nearest on the sphere (quantised great-circle distance, then index) of row i (self excluded)."""
    q = sphere_key(points_rad[i, 0], points_rad[i, 1], points_rad[:, 0], points_rad[:, 1], delta)
    order = np.lexsort((np.arange(points_rad.shape[0]), q))
    out: np.ndarray = order[order != i][:N_WEIGHT_NEIGHBOURS]
    return out


@lru_cache(maxsize=64)
def _grid_graph(rings: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plane graph of the grid alone: KW nearest grid neighbours (G, KW), their q, and q of the next one."""
    g = unit_grid(rings)
    n = g.shape[0]
    k = min(KG + 2, n)
    _, idx = cKDTree(g).query(g, k=k)
    d = g[idx] - g[:, None, :]
    q = quantize(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1])
    cand = np.where(idx == np.arange(n)[:, None], -1, idx)
    width = min(KW + 1, n - 1)
    nbr, qk, has = _select(cand, q, width, ordered=True)
    ok = has & ((qk + MARGIN < q[:, -1]) | (k == n))
    for i in np.flatnonzero(~ok):
        nbr[i] = _brute(g, int(i), width)
    qn = quantize(((g[nbr] - g[:, None, :]) ** 2).sum(axis=2))
    pad = KW + 1 - width  # tiny grids: fewer than KW + 1 other points
    if pad:
        nbr = np.pad(nbr, ((0, 0), (0, pad)), constant_values=-1)
        qn = np.pad(qn, ((0, 0), (0, pad)), constant_values=QMAX)
    return nbr[:, :KW], qn[:, :KW], qn[:, KW]


@lru_cache(maxsize=8)
def _stacked_grid_graphs(
    r_max: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid graphs for rings 1…r_max in one table (offset per ring count) for vectorised lookup.

    Returns (offsets, neighbours (·, KW), their q, max q of the 4th neighbour per ring count, q of the 4th
    per row, q of the (KW+1)-th per row).
    """
    sizes = grid_size(np.arange(r_max + 1))
    offsets = np.concatenate(([0], np.cumsum(sizes)))[:-1]  # offsets[R] = start of the R-ring table
    total = int(sizes.sum())
    nbr = np.full((total, KW), -1, dtype=np.int64)
    qn = np.full((total, KW), QMAX, dtype=np.int64)
    qnext = np.full(total, QMAX, dtype=np.int64)
    q4max = np.zeros(r_max + 1, dtype=np.int64)
    for rings in range(1, r_max + 1):
        a, b, c = _grid_graph(rings)
        o = offsets[rings]
        nbr[o : o + a.shape[0]] = a
        qn[o : o + a.shape[0]] = b
        qnext[o : o + a.shape[0]] = c
        q4max[rings] = b[:, N_WEIGHT_NEIGHBOURS - 1].max()
    return offsets, nbr, qn, q4max, qn[:, N_WEIGHT_NEIGHBOURS - 1], qnext


# ------------------------------------------------------------------------------------------ batch graph
@dataclass
class BatchGraph:
    """The directed 4-NN graphs of C centres, rows numbered centre by centre (presence rows, then grid rows).

    ``nb`` (T, 4) global row indices of each row's neighbours; ``rc`` (T,) centre of each row;
    ``prow`` (Np,) row of each presence point; ``n_c``/``g_c``/``m_c`` (C,) presence, grid and total counts;
    ``s1``/``s2`` (C,) weight sums S1, S2 of each W (S0 = 4m), only when asked for.
    """

    nb: np.ndarray
    rc: np.ndarray
    prow: np.ndarray
    n_c: np.ndarray
    g_c: np.ndarray
    m_c: np.ndarray
    s1: np.ndarray | None = None
    s2: np.ndarray | None = None


def build_graph(
    cid: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    n_c: np.ndarray,
    r: float,
    metric: str = "plane",
    weight_sums: bool = True,
    workers: int = -1,
) -> BatchGraph:
    """4-NN graphs of presence ∪ grid for C centres, each with at least one presence point.

    ``cid`` (Np,) centre of each presence point, sorted, the points of a centre in their local order;
    ``px, py`` AEQD coordinates (radians); ``n_c`` (C,) presence counts (all > 0); ``r`` radius (radians).
    """
    if metric not in ("plane", "sphere"):
        raise ValueError("metric must be 'plane' or 'sphere'")
    sphere = metric == "sphere"
    C = n_c.size
    Np = cid.size
    delta, rings = grid_rings(n_c, r)
    g_c = grid_size(rings)
    m_c = n_c + g_c
    dlt = delta[cid]
    ux = px / dlt
    uy = py / dlt
    pstart = np.concatenate(([0], np.cumsum(n_c)[:-1]))
    plocal = np.arange(Np) - pstart[cid]
    r_max = int(rings.max())
    ug = unit_grid(r_max)
    n_ug = ug.shape[0]
    offsets, snbr, sqn, q4max, q4_tab, qnext_tab = _stacked_grid_graphs(r_max)
    k2 = shrink2(r, delta) if sphere else np.ones(C)  # plane² ≥ sphere² ≥ k2 · plane²

    # (a) grid candidates of every presence point (plane)
    pts = np.column_stack((ux, uy))
    _, ig = _unit_grid_tree(r_max).query(pts, k=KG, distance_upper_bound=UB, workers=workers)
    returned = ig < n_ug
    igc = np.where(returned, ig, 0)
    dx = ug[igc, 0] - ux[:, None]
    dy = ug[igc, 1] - uy[:, None]
    qg = quantize(dx * dx + dy * dy)
    validg = returned & (igc < g_c[cid][:, None])
    full_g = returned[:, -1]
    qlast_g = np.where(full_g, qg[:, -1], quantize(UB * UB))

    # (b) presence candidates: all centres in one tree, blocks offset far apart
    off = 4.0 * (r_max + 2)
    bx = (np.arange(C) % BLOCK) * off
    by = (np.arange(C) // BLOCK) * off
    shifted = np.column_stack((ux + bx[cid], uy + by[cid]))
    ptree = cKDTree(shifted, balanced_tree=False)
    gcand = np.where(validg, n_c[cid][:, None] + igc, -1)
    if sphere:  # re-rank the plane candidates by great-circle distance
        qg_sel = sphere_key(
            px[:, None], py[:, None], ug[igc, 0] * dlt[:, None], ug[igc, 1] * dlt[:, None], dlt[:, None]
        )
    else:
        qg_sel = qg

    # first pass: the KP nearest presence points of every row
    _, ip = ptree.query(shifted, k=min(KP, Np), workers=workers)
    ip = ip.reshape(Np, -1)
    ret_p = ip < Np
    ipc = np.where(ret_p, ip, 0)
    same = ret_p & (cid[ipc] == cid[:, None])
    validp = same & (ipc != np.arange(Np)[:, None])
    dx = ux[ipc] - ux[:, None]
    dy = uy[ipc] - uy[:, None]
    qp = quantize(dx * dx + dy * dy)
    complete_p = (~same).any(axis=1) | (n_c[cid] <= ipc.shape[1])
    qlast_p = np.where(complete_p, BIG // 2, qp[:, -1])
    qp_sel = sphere_key(px[:, None], py[:, None], px[ipc], py[ipc], dlt[:, None]) if sphere else qp
    cand = np.concatenate((gcand, np.where(validp, plocal[ipc], -1)), axis=1)
    nbr_p, q4_p, has4 = _select(cand, np.concatenate((qg_sel, qp_sel), axis=1))
    grid_ok = has4 & (q4_p + MARGIN < qlast_g * k2[cid])
    ok = grid_ok & (q4_p + MARGIN < qlast_p * k2[cid])

    # rows the short list cannot certify (dense data, duplicated locations, ties): every presence point
    # within the 4th distance (a ball query returns all of them, ties included) beside the grid candidates
    redo = np.flatnonzero(grid_ok & ~ok)
    if redo.size:
        rad = np.sqrt((q4_p[redo] + 2 * MARGIN) / QSCALE / k2[cid[redo]]) * (1 + 1e-9)
        found = ptree.query_ball_point(
            shifted[redo], rad, workers=1 if redo.size < 2048 else workers, return_sorted=False
        )
        lens = np.fromiter((len(f) for f in found), dtype=np.int64, count=redo.size)
        rr = np.repeat(np.arange(redo.size), lens)
        jj = np.concatenate([np.asarray(f, dtype=np.int64) for f in found]) if lens.sum() else np.zeros(0, np.int64)
        keep = (cid[jj] == cid[redo][rr]) & (jj != redo[rr])
        rr, jj = rr[keep], jj[keep]
        col = np.arange(rr.size) - np.concatenate(([0], np.cumsum(np.bincount(rr, minlength=redo.size))))[rr]
        width = int(col.max()) + 1 if col.size else 1
        pc = np.full((redo.size, width), -1, dtype=np.int64)
        pq = np.zeros((redo.size, width), dtype=np.int64)
        pc[rr, col] = plocal[jj]
        i_r = redo[rr]
        if sphere:
            pq[rr, col] = sphere_key(px[i_r], py[i_r], px[jj], py[jj], dlt[i_r])
        else:
            pq[rr, col] = quantize((ux[jj] - ux[i_r]) ** 2 + (uy[jj] - uy[i_r]) ** 2)
        nbr_r, q4_r, has_r = _select(
            np.concatenate((gcand[redo], pc), axis=1), np.concatenate((qg_sel[redo], pq), axis=1)
        )
        nbr_p[redo] = nbr_r
        ok[redo] = has_r & (q4_r + MARGIN < qlast_g[redo] * k2[cid[redo]]) & (q4_r <= q4_p[redo])

    def union(c: int) -> np.ndarray:
        s = pstart[c]
        return np.concatenate((pts[s : s + n_c[c]], ug[: g_c[c]]))

    for i in np.flatnonzero(~ok):
        c = cid[i]
        if sphere:
            nbr_p[i] = _brute_sphere(union(c) * delta[c], plocal[i], delta[c])
        else:
            nbr_p[i] = _brute(union(c), plocal[i])

    # (c) grid rows: presence points closer than a grid point's 4th grid neighbour replace neighbours
    base_off = offsets[rings]
    lut = np.where(validg, base_off[cid][:, None] + igc, 0)
    thr = q4_tab[lut]
    q4m = q4max[rings[cid]]
    if sphere:  # a presence point can enter on the sphere up to the plane 4th distance / k2
        thr = np.floor(thr / k2[cid][:, None]).astype(np.int64) + MARGIN
        q4m = np.floor(q4m / k2[cid]).astype(np.int64)
    pair = validg & (qg <= thr)
    incomplete = full_g & (qg[:, -1] <= q4m + MARGIN)
    pr, pk = np.nonzero(pair)
    pair_p, pair_g, pair_q = pr, igc[pr, pk], qg[pr, pk]
    extra = []
    for i in np.flatnonzero(incomplete):  # rare: search the whole grid of this centre
        c = cid[i]
        gg = ug[: g_c[c]] - pts[i]
        qq = quantize(gg[:, 0] * gg[:, 0] + gg[:, 1] * gg[:, 1])
        lim = q4_tab[base_off[c] + np.arange(g_c[c])]
        if sphere:
            lim = np.floor(lim / k2[c]).astype(np.int64) + MARGIN
        hit = np.flatnonzero(qq <= lim)
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
    # rows of the grid alone keep the plane graph; on the sphere it may differ only between grid points
    # (near-ties), which changes neither S nor the PyGBS null (the sphere metric has no weight sums)
    nb[grow] = snbr[base_off[gcid] + gg, :4] + gshift[gcid][:, None]

    if pair_p.size:
        pc = cid[pair_p]
        prow_g = rstart[pc] + n_c[pc] + pair_g  # affected grid row
        order = np.argsort(prow_g)
        prow_g, pair_q, pl, pp = prow_g[order], pair_q[order], plocal[pair_p][order], pair_p[order]
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
        kw = KW if sphere else 4
        gnb = snbr[base_off[aff_c] + aff_g, :kw]
        cand = np.full((n_aff, kw + width), -1, dtype=np.int64)
        qq = np.zeros((n_aff, kw + width), dtype=np.int64)
        cand[:, :kw] = np.where(gnb >= 0, gnb + n_c[aff_c][:, None], -1)
        cand[grp, kw + rank] = pl
        if sphere:
            d_a = delta[aff_c]
            ax, ay = ug[aff_g, 0] * d_a, ug[aff_g, 1] * d_a
            gnc = np.maximum(gnb, 0)
            qq[:, :kw] = sphere_key(
                ax[:, None], ay[:, None], ug[gnc, 0] * d_a[:, None], ug[gnc, 1] * d_a[:, None], d_a[:, None]
            )
            qq[grp, kw + rank] = sphere_key(ax[grp], ay[grp], px[pp], py[pp], d_a[grp])
        else:
            qq[:, :kw] = sqn[base_off[aff_c] + aff_g, :kw]
            qq[grp, kw + rank] = pair_q
        sel, q4_a, _ = _select(cand, qq)
        if sphere:  # grid points beyond the KW kept are at least k2 · (plane q of the next) away
            bad_rows = ~(q4_a + MARGIN < qnext_tab[base_off[aff_c] + aff_g] * k2[aff_c])
            for a in np.flatnonzero(bad_rows):
                c = aff_c[a]
                sel[a] = _brute_sphere(union(c) * delta[c], n_c[c] + aff_g[a], delta[c])
        nb[aff_rows] = sel + rstart[aff_c][:, None]

    graph = BatchGraph(nb=nb, rc=rc, prow=prow, n_c=n_c, g_c=g_c, m_c=m_c)
    if weight_sums:
        nb32 = nb.astype(np.int32) if T < 2**31 else nb
        indeg = np.bincount(nb32.ravel(), minlength=T)
        # edge i→j is mutual when i is among j's 4 neighbours (at most once): count matches per row
        mutual = np.count_nonzero(nb32[nb32] == np.arange(T, dtype=nb32.dtype)[:, None, None], axis=(1, 2))
        graph.s1 = 4.0 * m_c + np.bincount(rc, mutual, minlength=C)
        graph.s2 = np.bincount(rc, (4.0 + indeg) ** 2, minlength=C)
    return graph
