"""Getis-Ord Gi* hot and cold spots with analytic z-scores (Getis & Ord 1992; Ord & Getis 1995).

For a value y (here: a per-point error, high = bad) and weights w_ij that include each point itself
(w_ii = 1, the "star" statistic), with n points, ȳ = Σy/n and s² = Σy²/n − ȳ²:

    z_i = (Σ_j w_ij y_j − ȳ W_i) / ( s · sqrt((n S1_i − W_i²) / (n − 1)) ),
    W_i = Σ_j w_ij,  S1_i = Σ_j w_ij²,

which for binary weights equals esda's ``G_Local(y, w, star=True, transform='B').Zs`` (esda writes the
same quantity as (G − E[G]) / sqrt(V[G]); identical when ȳ > 0). p-values are two-sided normal.

Bins follow ArcGIS's Hot Spot Analysis ``Gi_Bin``: ±3 at 99 % confidence (p < 0.01), ±2 at 95 %
(p < 0.05), ±1 at 90 % (p < 0.10), 0 otherwise; the sign is the sign of z (+ hot, − cold). With FDR the
Benjamini–Hochberg adjusted p-values (q ≤ level) decide instead, which is what ArcGIS's FDR option does
level by level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.stats import norm

from geoenc.metrics.spatial import (
    distance_band_rows,
    distance_band_weights,
    knn_indices,
    knn_matrix,
    knn_weights,
    lonlat_to_xyz,
)

DEFAULT_GI_K = 8
#: rows of the neighbour graph per task when it is built in partitions (:func:`hotspots_partitioned`)
ROWS_PER_TASK = 262_144
LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))


def gi_moments(y: np.ndarray) -> tuple[float, float]:
    """ȳ and s² of the value (ValueError for a constant value, where Gi* is undefined)."""
    y = np.asarray(y, dtype=np.float64)
    ybar = y.mean()
    s2 = (y * y).mean() - ybar * ybar
    if not s2 > 1e-300 * max(1.0, ybar * ybar):
        raise ValueError("Gi* is undefined for a constant value")
    return float(ybar), float(s2)


def gi_star(y: np.ndarray, w: sparse.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values; ``w`` must already contain the self weights."""
    y = np.asarray(y, dtype=np.float64)
    ybar, s2 = gi_moments(y)
    return gi_star_rows(y, w, ybar, s2)


def gi_star_rows(y: np.ndarray, w: sparse.spmatrix, ybar: float, s2: float) -> tuple[np.ndarray, np.ndarray]:
    """Gi* of the points whose weights rows ``w`` ``(R, n)`` are given (a partition of the graph; ȳ, s² global)."""
    y = np.asarray(y, dtype=np.float64)
    w = sparse.csr_matrix(w, dtype=np.float64)
    n = y.size
    wi = np.asarray(w.sum(axis=1)).ravel()
    s1 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    den = np.sqrt(s2) * np.sqrt(np.maximum(n * s1 - wi * wi, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, (w @ y - ybar * wi) / den, 0.0)
    p = 2.0 * norm.sf(np.abs(z))
    return z, p


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), monotone, capped at 1."""
    p = np.asarray(p, dtype=np.float64)
    n = p.size
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def gi_bins(z: np.ndarray, p: np.ndarray, q: np.ndarray | None = None) -> np.ndarray:
    """ArcGIS-style Gi_Bin −3…+3 (int8). With ``q`` (BH-adjusted), bins use q ≤ level."""
    out = np.zeros(np.shape(z), dtype=np.int8)
    for b, level in reversed(LEVELS):  # weakest first, stronger levels overwrite
        sig = (q <= level) if q is not None else (p < level)
        out[sig] = b
    bins: np.ndarray = (out * np.sign(z)).astype(np.int8)
    return bins


@dataclass
class HotspotResult:
    z: np.ndarray
    p: np.ndarray
    bin: np.ndarray
    q: np.ndarray | None
    weights: str

    def counts(self) -> dict[str, int]:
        """Number of points per bin, e.g. ``{"-3": 4, …, "3": 17}``."""
        return {str(b): int((self.bin == b).sum()) for b in range(-3, 4)}


def hotspots(
    lon: np.ndarray,
    lat: np.ndarray,
    y: np.ndarray,
    *,
    k: int = DEFAULT_GI_K,
    band_km: float | None = None,
    fdr: bool = False,
) -> HotspotResult:
    """Gi* of ``y`` at every point with k-NN (default) or distance-band weights on the sphere, self included."""
    xyz = lonlat_to_xyz(lon, lat)
    if band_km is not None:
        w = distance_band_weights(xyz, band_km, self_weight=True)
        desc = f"distance band {band_km:g} km (self included)"
    else:
        w = knn_weights(xyz, k, self_weight=True)
        desc = f"{k} nearest neighbours (self included)"
    z, p = gi_star(y, w)
    q = bh_adjust(p) if fdr else None
    return HotspotResult(z=z, p=p, bin=gi_bins(z, p, q), q=q, weights=desc)


def _graph_rows(shared: dict[str, Any], rows: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray | None]:
    """One task of :func:`hotspots_partitioned`: Gi* of rows [a, b) and their Moran k-NN indices.

    ``shared`` holds every point and the value (sent once per worker); the k-d tree of all points is built on
    the worker on first use — the same tree as in one process, so the same neighbours.
    """
    from scipy.spatial import cKDTree

    if "tree" not in shared:
        shared["tree"] = cKDTree(shared["xyz"])
    a, b = rows
    xyz, tree, k, moran_k = shared["xyz"], shared["tree"], shared["k"], shared["moran_k"]
    sel = slice(a, b)
    midx = None
    if shared["band_km"] is not None:
        w = distance_band_rows(xyz, shared["band_km"], tree, sel)
    else:
        idx = knn_indices(xyz, k, 1, tree=tree, rows=sel)
        w = knn_matrix(idx, True, a, xyz.shape[0])
        midx = idx if moran_k == k else None
    if moran_k and midx is None:
        midx = knn_indices(xyz, moran_k, 1, tree=tree, rows=sel)
    z, p = gi_star_rows(shared["y"], w, shared["ybar"], shared["s2"])
    return a, z, p, midx


def hotspots_partitioned(
    lon: np.ndarray,
    lat: np.ndarray,
    y: np.ndarray,
    mapper: Callable[..., Any],
    *,
    k: int = DEFAULT_GI_K,
    band_km: float | None = None,
    fdr: bool = False,
    moran_k: int = 0,
    rows_per_task: int | None = None,
) -> tuple[HotspotResult, np.ndarray | None]:
    """:func:`hotspots` with the neighbour graph built in partitions of rows, one task each through ``mapper``.

    The points are shared with the tasks once; each task finds its rows' neighbours among all points and scores
    them with the global ȳ and s², so z and p are those of :func:`hotspots` bit for bit. With ``moran_k`` it
    also returns the ``(N, moran_k)`` k-NN indices for Moran's I (from the same query when ``moran_k == k``).
    """
    y = np.asarray(y, dtype=np.float64)
    ybar, s2 = gi_moments(y)
    xyz = lonlat_to_xyz(lon, lat)
    n = y.size
    if band_km is None and not (1 <= k < n):
        raise ValueError(f"need more points ({n}) than neighbours k={k}")
    shared = {"xyz": xyz, "y": y, "k": k, "band_km": band_km, "moran_k": moran_k, "ybar": ybar, "s2": s2}
    step = rows_per_task or ROWS_PER_TASK
    items = [(a, min(a + step, n)) for a in range(0, n, step)]
    z, p = np.empty(n), np.empty(n)
    midx = np.empty((n, moran_k), dtype=np.int64) if moran_k else None
    for _, (a, zr, pr, mr) in mapper(_graph_rows, shared, items, name="gi"):
        z[a : a + zr.size], p[a : a + zr.size] = zr, pr
        if midx is not None:
            midx[a : a + zr.size] = mr
    desc = f"distance band {band_km:g} km (self included)" if band_km is not None else None
    desc = desc or f"{k} nearest neighbours (self included)"
    q = bh_adjust(p) if fdr else None
    return HotspotResult(z=z, p=p, bin=gi_bins(z, p, q), q=q, weights=desc), midx
