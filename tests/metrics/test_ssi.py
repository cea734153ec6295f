"""SSI: both modes against their slow independent references, the exact null against Monte-Carlo
permutations, relative scores, saturation, ties and constructed patterns."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.spatial import cKDTree

from geoenc.metrics.spatial import lonlat_to_xyz
from geoenc.metrics.ssi import DEFAULT_RADIUS_KM, SSI_CAP, grid_size, pygbs_moments, ssi_scores, unit_grid
from tests.conftest import SAMPLE
from tests.metrics import ssi_reference as ref

MODES = ("exact", "pygbs")


def _cloud(n, seed, lon0=0.0, lat0=45.0, spread=4.0):
    rng = np.random.default_rng(seed)
    lon = lon0 + rng.uniform(-spread, spread, n)
    lat = lat0 + rng.uniform(-spread, spread, n)
    return lon, lat, rng


@lru_cache(maxsize=1)
def sample_predictions():
    """A small real prediction set: the country of each sample test city by its nearest training city
    (errors fall along borders). Returns lon, lat, bad (6,947 points, 184 errors)."""
    tr = pq.read_table(SAMPLE / "cities_train.parquet", columns=["lon", "lat", "country"]).to_pydict()
    te = pq.read_table(SAMPLE / "cities_test.parquet", columns=["lon", "lat", "country"]).to_pydict()
    tree = cKDTree(lonlat_to_xyz(np.array(tr["lon"]), np.array(tr["lat"])))
    lon, lat = np.array(te["lon"]), np.array(te["lat"])
    _, j = tree.query(lonlat_to_xyz(lon, lat), k=1)
    bad = np.array(tr["country"], dtype=object)[j] != np.array(te["country"], dtype=object)
    return lon, lat, bad


def test_background_grid_rings_start_north_and_turn_west():
    g = unit_grid(3)
    assert g.shape == (7 + 13 + 19, 2)
    assert grid_size(np.array([1, 2, 3])).tolist() == [7, 20, 39]
    radii = np.hypot(g[:, 0], g[:, 1])
    assert np.allclose(radii[:7], 1) and np.allclose(radii[7:20], 2) and np.allclose(radii[20:], 3)
    # PyGBS's pole grid (longitudes −π + 2πj/n) rotated onto the centre: first point north, then west
    assert np.allclose(g[0], [0, 1]) and np.allclose(g[7], [0, 2])
    assert g[1, 0] < 0 and g[1, 1] > 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("presence", ["low", "all"])
@pytest.mark.parametrize("radius_km,k", [(300.0, 60), (120.0, 25)])
def test_matches_reference(mode, presence, radius_km, k):
    lon, lat, rng = _cloud(500, seed=3)
    bad = rng.random(lon.size) < 0.3
    bad |= (lon < -2) & (lat < 43)
    res = ssi_scores(
        lon, lat, bad, radius_km=radius_km, k=k, centres="all", mode=mode, unmarked_presence=presence, batch_size=37
    )
    ids = np.arange(0, lon.size, 23)
    un, mk = ref.reference_ssi(lon, lat, bad, ids, radius_km, k, unmarked_presence=presence, mode=mode)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)
    assert np.isfinite(res.marked).all() and (res.marked >= 0).all()


@pytest.mark.parametrize("mode", MODES)
def test_sample_predictions_match_reference_per_centre(mode):
    """Acceptance: on real predictions, every mode equals its independent re-implementation to 1e-6."""
    lon, lat, bad = sample_predictions()
    res = ssi_scores(lon, lat, bad, mode=mode)
    ids = np.flatnonzero(bad)[::6]
    un, mk = ref.reference_ssi(
        lon, lat, bad, ids, DEFAULT_RADIUS_KM, 400, unmarked_presence=res.unmarked_presence, mode=mode
    )
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)
    assert res.unmarked_presence == ("all" if mode == "pygbs" else "low")


def test_exact_null_agrees_with_monte_carlo_permutations():
    """Acceptance: exact μ and σ² equal a 20,000-permutation estimate within its standard error (6 centres);
    PyGBS's closed forms do not."""
    lon, lat, bad = sample_predictions()
    centres = np.flatnonzero(bad)[[0, 5, 17, 40, 77, 120]]
    mask = np.zeros(lon.size, dtype=bool)
    mask[centres] = True
    res = ssi_scores(lon, lat, bad, centres=mask, mode="exact", scores=("marked",), details=True)
    r = DEFAULT_RADIUS_KM / ref.EARTH_RADIUS_KM
    rng = np.random.default_rng(0)
    pygbs_off = []
    for i in centres:
        idx = ref.neighbourhood(lon, lat, i, r, 400)
        W = ref.centre_graph(lon, lat, i, idx, r, "exact")
        m = W.shape[0]
        vals = np.zeros(m)
        vals[: idx.size] = np.where(bad[idx], -1.0, 1.0)
        z = vals - vals.mean()
        nb = np.nonzero(W)[1].reshape(m, 4)
        assert float(z @ W @ z) == pytest.approx(res.details["marked"]["S"][i], abs=1e-9)
        sims = []
        for _ in range(10):  # 10 × 2,000 permutations
            zp = z[np.argsort(rng.random((2000, m)), axis=1)]
            sims.append((zp * zp[:, nb].sum(axis=2)).sum(axis=1))
        s = np.concatenate(sims)
        p = s.size
        mean, var = s.mean(), s.var(ddof=1)
        se_mean = np.sqrt(var / p)
        se_var = np.sqrt((((s - mean) ** 4).mean() - var**2) / p)
        mu, sigma = res.details["marked"]["mu"][i], res.details["marked"]["sigma"][i]
        assert abs(mean - mu) < 4 * se_mean, (i, mean, mu, se_mean)
        assert abs(var - sigma**2) < 4 * se_var, (i, var, sigma**2, se_var)
        pmu, _ = ref.pygbs_null(vals)
        pygbs_off.append(abs(mean - pmu) / se_mean)
    assert max(pygbs_off) > 10  # the check has the power to reject PyGBS's approximate mean


def test_pygbs_moments_vectorised_equal_the_literal_formulas():
    rng = np.random.default_rng(1)
    for _ in range(50):
        n_pos, n_neg = rng.integers(0, 60, 2)
        if n_pos + n_neg == 0:
            continue
        g = int(grid_size(np.ceil(np.sqrt(5 * (n_pos + n_neg) / np.pi)).astype(int)))
        vals = np.concatenate((np.ones(n_pos), -np.ones(n_neg), np.zeros(g)))
        mu, sigma = pygbs_moments(np.array([-1.0, 0.0, 1.0]), np.array([[n_neg, g, n_pos]]))
        rmu, rsigma = ref.pygbs_null(vals)
        assert mu[0] == pytest.approx(rmu, rel=1e-12, abs=1e-12) and sigma[0] == pytest.approx(rsigma, rel=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_matches_reference_on_a_lattice_with_ties(mode):
    # a regular lattice: many exactly symmetric (tied) distances, in the data and against the grid
    lon, lat = np.meshgrid(np.arange(0, 6, 0.5), np.arange(40, 46, 0.5))
    lon, lat = lon.ravel(), lat.ravel()
    bad = ((np.arange(lon.size) * 7) % 5) == 0
    res = ssi_scores(lon, lat, bad, radius_km=150, k=50, centres="all", mode=mode, unmarked_presence="low")
    ids = np.arange(lon.size)[::5]
    un, mk = ref.reference_ssi(lon, lat, bad, ids, 150, 50, mode=mode)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_antimeridian_and_pole_neighbourhoods(mode):
    rng = np.random.default_rng(5)
    lon = np.concatenate((rng.uniform(177, 183, 150), rng.uniform(-180, 180, 150)))
    lon = (lon + 180) % 360 - 180
    lat = np.concatenate((rng.uniform(-3, 3, 150), rng.uniform(86, 90, 150)))
    bad = rng.random(300) < 0.4
    res = ssi_scores(lon, lat, bad, radius_km=250, k=80, centres="all", mode=mode, unmarked_presence="low")
    ids = np.arange(0, 300, 13)
    un, mk = ref.reference_ssi(lon, lat, bad, ids, 250, 80, mode=mode)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_duplicated_locations_match_reference(mode):
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(0, 5, 200), np.full(60, 2.0), np.full(20, 3.5)])
    lat = np.concatenate([rng.uniform(40, 45, 200), np.full(60, 42.0), np.full(20, 43.0)])
    bad = rng.random(lon.size) < 0.4
    res = ssi_scores(lon, lat, bad, radius_km=150, k=120, centres="all", mode=mode, unmarked_presence="low")
    ids = np.r_[np.arange(0, 200, 50), 200, 230, 265, 275]
    un, mk = ref.reference_ssi(lon, lat, bad, ids, 150, 120, mode=mode)
    np.testing.assert_allclose(res.marked[ids], mk, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.unmarked[ids], un, rtol=0, atol=1e-6)


def test_relative_scores_change_sign_as_they_should():
    """Acceptance: clustered errors give a clearly positive relative score, random errors one near zero."""
    lon, lat, rng = _cloud(2000, seed=11, spread=8.0)
    clustered = np.hypot(lon - 3, lat - 48) < 3.0
    random = np.zeros_like(clustered)
    random[rng.choice(lon.size, int(clustered.sum()), replace=False)] = True
    a = ssi_scores(lon, lat, clustered, relative=6, seed=1).summary()
    b = ssi_scores(lon, lat, random, relative=6, seed=1).summary()
    for key in ("marked_ssi", "unmarked_ssi"):
        assert a[key + "_rel"] > 5 * a[key + "_random_sd"] and a[key + "_rel"] > 0.3 * a[key], (key, a)
        assert abs(b[key + "_rel"]) < 3 * b[key + "_random_sd"], (key, b)
        assert a[key + "_rel"] == pytest.approx(a[key] - a[key + "_random"])
    assert a["relative_permutations"] == 6 and a["n_low_centres"] == int(clustered.sum())


def test_relative_is_seeded_and_fixed_at_the_observed_centres():
    lon, lat, rng = _cloud(600, seed=12)
    bad = rng.random(600) < 0.2
    one = ssi_scores(lon, lat, bad, k=60, relative=3, seed=4)
    two = ssi_scores(lon, lat, bad, k=60, relative=3, seed=4)
    other = ssi_scores(lon, lat, bad, k=60, relative=3, seed=5)
    np.testing.assert_array_equal(one.marked_perm, two.marked_perm)
    assert not np.array_equal(one.marked_perm, other.marked_perm)
    assert np.isfinite(one.marked_random[bad]).all() and np.isnan(one.marked_random[~bad]).all()
    # with every neighbourhood point as presence, the unmarked score ignores the marks: relative = 0
    allp = ssi_scores(lon, lat, bad, k=60, relative=2, unmarked_presence="all").summary()
    assert abs(allp["unmarked_ssi_rel"]) < 1e-9 and allp["unmarked_ssi_random_sd"] < 1e-9


def test_saturated_fraction_counts_centres_at_the_cap():
    lon, lat, rng = _cloud(4000, seed=13, spread=1.5)  # dense: strong presence/background contrast
    bad = rng.random(lon.size) < 0.3
    centres = bad & (np.arange(lon.size) < 600)
    res = ssi_scores(lon, lat, bad, k=400, mode="pygbs", centres=centres)
    s = res.summary()
    low = res.bad & res.centre
    expect = float(np.mean(res.unmarked[low] >= SSI_CAP - 0.01))
    assert s["unmarked_saturated"] == pytest.approx(expect) and s["unmarked_saturated"] > 0.5
    assert np.nanmax(res.unmarked) == pytest.approx(SSI_CAP)
    assert abs(SSI_CAP - 589.4617838) < 1e-6
    assert 0.0 <= s["marked_saturated"] <= 1.0


def test_clustered_errors_score_higher_than_random_errors():
    lon, lat, rng = _cloud(1500, seed=11, spread=8.0)
    clustered = np.hypot(lon - 3, lat - 48) < 3.0
    random = np.zeros_like(clustered)
    random[rng.choice(lon.size, int(clustered.sum()), replace=False)] = True
    for mode in MODES:
        a = ssi_scores(lon, lat, clustered, mode=mode, unmarked_presence="low").summary()
        b = ssi_scores(lon, lat, random, mode=mode, unmarked_presence="low").summary()
        assert a["marked_ssi"] > 2 * b["marked_ssi"] and a["unmarked_ssi"] > b["unmarked_ssi"], mode
        assert a["n_low_centres"] == int(clustered.sum()) and a["mode"] == mode


def test_centre_selection_and_summary():
    lon, lat, rng = _cloud(400, seed=2)
    bad = rng.random(400) < 0.25
    res = ssi_scores(lon, lat, bad, k=50)
    assert np.isnan(res.marked[~bad]).all() and np.isfinite(res.marked[bad]).all()
    s = res.summary()
    assert s["n_centres"] == s["n_low_centres"] == int(bad.sum())
    assert s["marked_ssi"] == pytest.approx(float(np.mean(res.marked[bad])))
    assert s["mode"] == "exact" and s["unmarked_presence"] == "low" and "marked_ssi_rel" not in s
    # an isolated good centre with no low-performance neighbour has unmarked SSI 0 (p = 1)
    lon2 = np.append(lon, 120.0)
    lat2 = np.append(lat, -30.0)
    res2 = ssi_scores(lon2, lat2, np.append(bad, False), k=50, centres="all")
    assert res2.unmarked[-1] == 0.0


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"mode": "pgybs"}, "mode must be"),
        ({"unmarked_presence": "some"}, "presence must be"),
        ({"relative": -1}, "relative"),
        ({"k": 0}, "k must be"),
        ({"centres": np.ones(3, dtype=bool)}, "one entry per point"),
    ],
)
def test_bad_arguments(kwargs, message):
    lon, lat, rng = _cloud(50, seed=1)
    with pytest.raises(ValueError, match=message):
        ssi_scores(lon, lat, rng.random(50) < 0.3, **kwargs)


def test_processes_give_identical_results():
    lon, lat, rng = _cloud(500, seed=9)
    bad = rng.random(500) < 0.3
    for mode in MODES:
        one = ssi_scores(lon, lat, bad, k=60, batch_size=40, n_jobs=1, mode=mode, relative=2)
        two = ssi_scores(lon, lat, bad, k=60, batch_size=40, n_jobs=2, mode=mode, relative=2)
        np.testing.assert_array_equal(one.marked, two.marked)
        np.testing.assert_array_equal(one.unmarked, two.unmarked)
        np.testing.assert_array_equal(one.marked_perm, two.marked_perm)
