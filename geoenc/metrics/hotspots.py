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

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.stats import norm

from geoenc.metrics.spatial import distance_band_weights, knn_weights, lonlat_to_xyz

DEFAULT_GI_K = 8
LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))


def gi_star(y: np.ndarray, w: sparse.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values; ``w`` must already contain the self weights."""
    y = np.asarray(y, dtype=np.float64)
    w = sparse.csr_matrix(w, dtype=np.float64)
    n = y.size
    ybar = y.mean()
    s2 = (y * y).mean() - ybar * ybar
    if not s2 > 1e-300 * max(1.0, ybar * ybar):
        raise ValueError("Gi* is undefined for a constant value")
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
