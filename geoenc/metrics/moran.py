"""Moran's I and the permutation moments of its numerator (Cliff & Ord 1981).

Used twice: the global Moran's I of the per-point outcome (:func:`global_moran`), and the null
distribution of the SSI statistic ``S = zᵀWz`` (:mod:`geoenc.metrics.ssi`).

Derivation (randomisation null: the m observed values are assigned to the m sites by a uniformly
random permutation; W is fixed with a zero diagonal). With z the centred values,
``m2 = Σz²/m``, ``m4 = Σz⁴/m``, ``b2 = m4/m2²`` (all permutation-invariant) and

    S0 = Σ_ij w_ij,   S1 = ½ Σ_ij (w_ij + w_ji)²,   S2 = Σ_i (w_i· + w_·i)²,

Moran's I is ``I = (m/S0) · S / Σz² = S / (S0 · m2)``, so S is I times a permutation-invariant
constant and its moments follow from the classical ones of I:

    E[I]  = −1/(m−1)
    E[I²] = [m((m²−3m+3)S1 − m S2 + 3S0²) − b2((m²−m)S1 − 2m S2 + 6S0²)] / ((m−1)(m−2)(m−3) S0²)

    E[S] = S0 m2 E[I] = −S0 Σz² / (m(m−1)),     Var[S] = (S0 m2)² (E[I²] − E[I]²).

(E[S] follows directly: for i≠j, E[z_π(i) z_π(j)] = ((Σz)² − Σz²)/(m(m−1)) = −Σz²/(m(m−1)).)
``tests/metrics/test_moran.py`` checks these against exact enumeration of all permutations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.stats import norm


def numerator_moments(
    m: ArrayLike, s0: ArrayLike, s1: ArrayLike, s2: ArrayLike, m2: ArrayLike, b2: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of ``S = zᵀWz`` under random permutation of the values (arrays broadcast).

    ``m`` sites (m ≥ 4), weight sums ``s0, s1, s2``, ``m2 = Σz²/m`` and kurtosis ``b2 = m4/m2²``.
    """
    m = np.asarray(m, dtype=np.float64)
    s0 = np.asarray(s0, dtype=np.float64)
    s1 = np.asarray(s1, dtype=np.float64)
    s2 = np.asarray(s2, dtype=np.float64)
    ei = -1.0 / (m - 1.0)
    num = m * ((m * m - 3 * m + 3) * s1 - m * s2 + 3 * s0 * s0) - b2 * ((m * m - m) * s1 - 2 * m * s2 + 6 * s0 * s0)
    ei2 = num / ((m - 1) * (m - 2) * (m - 3) * s0 * s0)
    vi = np.maximum(ei2 - ei * ei, 0.0)
    scale = s0 * m2
    return scale * ei, scale * scale * vi


def weight_sums(w: sparse.spmatrix) -> tuple[float, float, float]:
    """S0, S1, S2 of a sparse weights matrix (diagonal assumed zero)."""
    w = sparse.csr_matrix(w, dtype=np.float64)
    s0 = float(w.sum())
    t = w + w.T
    s1 = 0.5 * float(t.multiply(t).sum())
    deg = np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()
    s2 = float((deg * deg).sum())
    return s0, s1, s2


@dataclass
class MoranResult:
    """Global Moran's I with its randomisation-null expectation, variance, z-score and two-sided p."""

    I: float
    expected: float
    variance: float
    z: float
    p: float


def global_moran(y: np.ndarray, w: sparse.spmatrix, row_standardize: bool = True) -> MoranResult:
    """Global Moran's I of ``y`` (analytic randomisation inference, like esda's ``z_rand``/``p_rand``).

    ``w``: weights with a zero diagonal (e.g. :func:`geoenc.metrics.spatial.knn_weights`); row-standardised
    first by default (esda's default ``transform='r'``).
    """
    y = np.asarray(y, dtype=np.float64)
    w = sparse.csr_matrix(w, dtype=np.float64)
    if row_standardize:
        rs = np.asarray(w.sum(axis=1)).ravel()
        rs[rs == 0] = 1.0
        w = sparse.diags(1.0 / rs) @ w
    n = y.size
    z = y - y.mean()
    ss = float(z @ z)
    if ss == 0.0:
        raise ValueError("Moran's I is undefined for a constant variable")
    s0, s1, s2 = weight_sums(w)
    s = float(z @ (w @ z))
    m2 = ss / n
    b2 = float((z**4).sum() / n) / (m2 * m2)
    mean, var = numerator_moments(n, s0, s1, s2, m2, b2)
    scale = s0 * m2
    i_val = s / scale
    ei = float(mean) / scale
    vi = float(var) / (scale * scale)
    zs = (i_val - ei) / np.sqrt(vi) if vi > 0 else 0.0
    p = float(2.0 * norm.sf(abs(zs)))
    return MoranResult(I=float(i_val), expected=ei, variance=vi, z=float(zs), p=p)
