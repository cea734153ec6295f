"""SSI: agreement with the slow reference, tie handling, constructed patterns."""

from __future__ import annotations

import numpy as np
import pytest

from geoenc.metrics.ssi import DEFAULT_RADIUS_KM, grid_size, ssi_scores, unit_grid
from tests.metrics.ssi_reference import reference_ssi


def _cloud(n, seed, lon0=0.0, lat0=45.0, spread=4.0):
    rng = np.random.default_rng(seed)
    lon = lon0 + rng.uniform(-spread, spread, n)
    lat = lat0 + rng.uniform(-spread, spread, n)
    return lon, lat, rng


def test_background_grid_rings():
    g = unit_grid(3)
    assert g.shape == (7 + 13 + 19, 2)
    assert grid_size(np.array([1, 2, 3])).tolist() == [7, 20, 39]
    radii = np.hypot(g[:, 0], g[:, 1])
    assert np.allclose(radii[:7], 1) and np.allclose(radii[7:20], 2) and np.allclose(radii[20:], 3)
    assert np.allclose(g[0], [-1, 0])  # first point of each ring at angle −π


@pytest.mark.parametrize("presence", ["low", "all"])
@pytest.mark.parametrize("radius_km,k", [(300.0, 60), (DEFAULT_RADIUS_KM, 400), (120.0, 25)])
def test_matches_reference(presence, radius_km, k):
    lon, lat, rng = _cloud(500, seed=3)
    bad = rng.random(lon.size) < 0.3
    bad |= (lon < -2) & (lat < 43)
    res = ssi_scores(lon, lat, bad, radius_km=radius_km, k=k, centres="all", unmarked_presence=presence, batch_size=37)
    ids = np.arange(0, lon.size, 9 if k < 100 else 125)  # the reference is slow for big neighbourhoods
    un, mk = reference_ssi(lon, lat, bad, ids, radius_km, k, unmarked_presence=presence)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)
    assert np.isfinite(res.marked).all() and (res.marked >= 0).all()


def test_matches_reference_on_a_lattice_with_ties():
    # a regular lattice: many exactly symmetric (tied) distances, in the data and against the grid
    lon, lat = np.meshgrid(np.arange(0, 6, 0.5), np.arange(40, 46, 0.5))
    lon, lat = lon.ravel(), lat.ravel()
    bad = ((np.arange(lon.size) * 7) % 5) == 0
    res = ssi_scores(lon, lat, bad, radius_km=150, k=50, centres="all")
    ids = np.arange(lon.size)[::5]
    un, mk = reference_ssi(lon, lat, bad, ids, 150, 50)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)


def test_antimeridian_and_pole_neighbourhoods():
    rng = np.random.default_rng(5)
    lon = np.concatenate((rng.uniform(177, 183, 150), rng.uniform(-180, 180, 150)))
    lon = (lon + 180) % 360 - 180
    lat = np.concatenate((rng.uniform(-3, 3, 150), rng.uniform(86, 90, 150)))
    bad = rng.random(300) < 0.4
    res = ssi_scores(lon, lat, bad, radius_km=250, k=80, centres="all")
    ids = np.arange(0, 300, 11)
    un, mk = reference_ssi(lon, lat, bad, ids, 250, 80)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)


def test_clustered_errors_score_higher_than_random_errors():
    lon, lat, rng = _cloud(3000, seed=11, spread=8.0)
    clustered = np.hypot(lon - 3, lat - 48) < 3.0
    random = np.zeros_like(clustered)
    random[rng.choice(lon.size, int(clustered.sum()), replace=False)] = True
    a = ssi_scores(lon, lat, clustered).summary()
    b = ssi_scores(lon, lat, random).summary()
    assert a["marked_ssi"] > 2 * b["marked_ssi"]
    assert a["unmarked_ssi"] > b["unmarked_ssi"]
    assert a["n_low_centres"] == int(clustered.sum())


def test_centre_selection_and_summary():
    lon, lat, rng = _cloud(400, seed=2)
    bad = rng.random(400) < 0.25
    res = ssi_scores(lon, lat, bad, k=50)
    assert np.isnan(res.marked[~bad]).all() and np.isfinite(res.marked[bad]).all()
    s = res.summary()
    assert s["n_centres"] == s["n_low_centres"] == int(bad.sum())
    assert s["marked_ssi"] == pytest.approx(float(np.mean(res.marked[bad])))
    # an isolated good centre with no low-performance neighbour has unmarked SSI 0 (p = 1)
    lon2 = np.append(lon, 120.0)
    lat2 = np.append(lat, -30.0)
    res2 = ssi_scores(lon2, lat2, np.append(bad, False), k=50, centres="all")
    assert res2.unmarked[-1] == 0.0


def test_duplicated_locations_match_reference():
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(0, 5, 200), np.full(60, 2.0), np.full(20, 3.5)])
    lat = np.concatenate([rng.uniform(40, 45, 200), np.full(60, 42.0), np.full(20, 43.0)])
    bad = rng.random(lon.size) < 0.4
    res = ssi_scores(lon, lat, bad, radius_km=150, k=120, centres="all")
    ids = np.r_[np.arange(0, 200, 40), 200, 230, 265, 275]
    un, mk = reference_ssi(lon, lat, bad, ids, 150, 120)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)


def test_processes_give_identical_results():
    lon, lat, rng = _cloud(800, seed=9)
    bad = rng.random(800) < 0.3
    one = ssi_scores(lon, lat, bad, k=100, centres="all", batch_size=50, n_jobs=1)
    two = ssi_scores(lon, lat, bad, k=100, centres="all", batch_size=50, n_jobs=2)
    np.testing.assert_array_equal(one.marked, two.marked)
    np.testing.assert_array_equal(one.unmarked, two.unmarked)
