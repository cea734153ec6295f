"""Gi*: agreement with esda, bins, FDR, constructed hot spots."""

from __future__ import annotations

import numpy as np
import pytest

from geoenc.metrics.hotspots import bh_adjust, gi_bins, gi_star, hotspots
from geoenc.metrics.spatial import distance_band_weights, knn_indices, knn_weights, lonlat_to_xyz


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(-30, 30, n), rng.uniform(-20, 40, n)
    y = np.exp(rng.normal(0, 1, n)) + 3.0 * (np.hypot(lon - 10, lat - 10) < 8)
    return lon, lat, y


def _libpysal_w(w):
    from libpysal.weights import W

    n = w.shape[0]
    neigh = {i: [int(j) for j in w.indices[w.indptr[i] : w.indptr[i + 1]] if j != i] for i in range(n)}
    return W(neigh, silence_warnings=True)


@pytest.mark.parametrize("kind", ["knn", "band"])
def test_gi_star_matches_esda(kind):
    esda = pytest.importorskip("esda")
    lon, lat, y = _data()
    xyz = lonlat_to_xyz(lon, lat)
    w = knn_weights(xyz, 8, self_weight=True) if kind == "knn" else distance_band_weights(xyz, 900, self_weight=True)
    z, p = gi_star(y, w)
    ref = esda.G_Local(y, _libpysal_w(w), star=True, transform="B", permutations=0)
    np.testing.assert_allclose(z, ref.Zs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(p, 2 * ref.p_norm, rtol=1e-6, atol=1e-12)


def test_knn_graph_matches_haversine_balltree():
    from sklearn.neighbors import BallTree

    lon, lat, _ = _data(600, seed=3)
    ours = knn_indices(lonlat_to_xyz(lon, lat), 8)
    tree = BallTree(np.radians(np.column_stack((lat, lon))), metric="haversine")
    _, ref = tree.query(np.radians(np.column_stack((lat, lon))), k=9)
    assert np.array_equal(np.sort(ours, axis=1), np.sort(ref[:, 1:], axis=1))


def test_bins_follow_arcgis_levels():
    z = np.array([3.0, -3.0, 2.0, -2.0, 1.7, -1.7, 0.5])
    p = np.array([0.005, 0.005, 0.03, 0.03, 0.08, 0.08, 0.6])
    assert gi_bins(z, p).tolist() == [3, -3, 2, -2, 1, -1, 0]


def test_bh_adjust_matches_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    # sorted 0.01 0.03 0.04 0.5 → ×4/rank → 0.04 0.06 0.0533 0.5 → running min from the top
    np.testing.assert_allclose(bh_adjust(p), [0.04, 0.0533333333, 0.0533333333, 0.5])


def test_clustered_errors_make_hot_spots_and_fdr_is_stricter():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-30, 30, 2000), rng.uniform(-20, 40, 2000)
    y = (np.hypot(lon - 10, lat - 10) < 6).astype(float)
    y[rng.choice(2000, 100, replace=False)] = 1.0
    res = hotspots(lon, lat, y, k=8)
    inside = np.hypot(lon - 10, lat - 10) < 4
    assert (res.bin[inside] == 3).mean() > 0.9
    assert (res.bin[~inside] == 3).mean() < 0.05
    fdr = hotspots(lon, lat, y, k=8, fdr=True)
    assert (np.abs(fdr.bin) >= 1).sum() <= (np.abs(res.bin) >= 1).sum()
    assert fdr.q is not None and (fdr.q >= fdr.p).all()


def test_constant_value_is_refused():
    lon, lat, _ = _data(50)
    with pytest.raises(ValueError, match="constant"):
        hotspots(lon, lat, np.ones(50))
