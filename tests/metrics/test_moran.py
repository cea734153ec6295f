"""Permutation moments of the Moran numerator (exact enumeration) and global Moran's I (esda)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from geoenc.metrics.moran import global_moran, numerator_moments, weight_sums
from geoenc.metrics.spatial import knn_weights, lonlat_to_xyz


@pytest.mark.parametrize(
    "values", [[1, 1, 0, 0, 0, 0, 0], [1, -1, -1, 0, 0, 0, 0], [0.3, 2.0, -1.0, 0.5, 0.0, 4.0, 1.0]]
)
def test_numerator_moments_equal_exact_permutation_moments(values):
    rng = np.random.default_rng(0)
    m = len(values)
    w = np.zeros((m, m))
    for i in range(m):  # a random directed 0/1 graph with 2 out-neighbours, zero diagonal
        w[i, rng.choice([j for j in range(m) if j != i], 2, replace=False)] = 1
    v = np.asarray(values, dtype=float)
    s_all = []
    for perm in itertools.permutations(range(m)):
        z = v[list(perm)] - v.mean()
        s_all.append(z @ w @ z)
    s_all = np.array(s_all)
    z = v - v.mean()
    s0, s1, s2 = weight_sums(sparse.csr_matrix(w))
    m2 = (z**2).mean()
    b2 = (z**4).mean() / m2**2
    mean, var = numerator_moments(m, s0, s1, s2, m2, b2)
    assert mean == pytest.approx(s_all.mean(), abs=1e-10)
    assert var == pytest.approx(s_all.var(), rel=1e-10)


def test_global_moran_matches_esda():
    esda = pytest.importorskip("esda")
    from libpysal.weights import W

    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(-20, 20, 300), rng.uniform(-10, 30, 300)
    y = (lon > 5).astype(float) + rng.normal(0, 0.5, 300)
    w = knn_weights(lonlat_to_xyz(lon, lat), 8)
    res = global_moran(y, w)
    neigh = {i: list(w.indices[w.indptr[i] : w.indptr[i + 1]]) for i in range(300)}
    ref = esda.Moran(y, W(neigh, silence_warnings=True), transformation="r", permutations=0)
    assert pytest.approx(ref.I, abs=1e-10) == res.I
    assert res.expected == pytest.approx(ref.EI, abs=1e-12)
    assert res.variance == pytest.approx(ref.VI_rand, rel=1e-9)
    assert res.z == pytest.approx(ref.z_rand, rel=1e-9)
    assert res.p == pytest.approx(ref.p_rand, rel=1e-6, abs=1e-300)
