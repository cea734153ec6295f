"""Reference values derived from each paper's formula, in numpy float64, independently of geoenc.

Two kinds: literal values worked out by hand at chosen points (poles, antimeridian, equator), and the
formula evaluated in numpy at those points plus random ones. The random state of rff/geoclip/tile/rbf
(frequencies, table, anchors) is read from the encoder; everything else is recomputed here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from geoenc.encoders import get_encoder
from tests.encoders.helpers import sample_points

PTS = sample_points(16, seed=5).numpy()  # 16 random points + poles, antimeridian, equator, corners


def _enc(name, pts=PTS, **params):
    enc = get_encoder(name, **params)
    return enc, enc(torch.tensor(pts, dtype=torch.float64)).detach().numpy()


def _geo(s, rmin, rmax):
    if s == 1:
        return np.array([1.0 / rmin])
    return 1.0 / (rmin * (rmax / rmin) ** (np.arange(s) / (s - 1)))


# ---- literal values by hand ------------------------------------------------------------------


def test_wrap_by_hand():
    _, out = _enc("wrap", np.array([[90.0, 45.0], [-180.0, 90.0], [0.0, 0.0]]))
    expected = [[1, 0, 1, 0], [0, -1, 0, -1], [0, 1, 0, 1]]  # sin λ̂, cos λ̂, sin 2φ̂, cos 2φ̂
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_xyz_by_hand():
    _, out = _enc("xyz", np.array([[90.0, 0.0], [0.0, 90.0], [180.0, 0.0], [45.0, 45.0]]))
    np.testing.assert_allclose(out, [[0, 1, 0], [0, 0, 1], [-1, 0, 0], [0.5, 0.5, math.sqrt(0.5)]], atol=1e-12)


def test_grid_by_hand():
    # one scale with r = 180/π degrees: f = π/180, so sin(f·90°) = 1
    _, out = _enc("grid", np.array([[90.0, -90.0]]), frequency_num=1, min_radius=180 / math.pi, max_radius=360.0)
    np.testing.assert_allclose(out, [[1, -1, 0, 0]], atol=1e-12)  # sin λ, sin φ, cos λ, cos φ


def test_sphere_c_single_unit_scale_is_xyz():
    # with one scale of radius 1 rad sphereC is [z, x, y] of the unit sphere
    pts = PTS
    _, out = _enc("sphereC", pts, frequency_num=1, min_radius=1.0, max_radius=2.0)
    _, xyz = _enc("xyz", pts)
    np.testing.assert_allclose(out, xyz[:, [2, 0, 1]], atol=1e-12)


def test_sh_low_degrees_by_hand():
    # Y00 = 1/(2√π); Y10 = √(3/4π) sin φ̂; Y1±1 = √(3/4π) cos φ̂ · (sin λ̂ | cos λ̂)
    _, out = _enc("sh", np.array([[0.0, 90.0], [90.0, 0.0], [-180.0, 0.0]]), degree=2)
    k = math.sqrt(3 / (4 * math.pi))
    y00 = 0.5 / math.sqrt(math.pi)
    np.testing.assert_allclose(out, [[y00, 0, k, 0], [y00, k, 0, 0], [y00, 0, 0, -k]], atol=1e-12)


def test_nerf_octave_zero_by_hand():
    _, out = _enc("nerf", np.array([[0.0, 0.0]]), frequency_num=2)
    # p = (1, 0, 0): sin(π p), sin(2π p) then cos(π p), cos(2π p), ordered (coordinate, octave)
    expected = [0, 0, 0, 0, 0, 0, -1, 1, 1, 1, 1, 1]
    np.testing.assert_allclose(out, expected_row(expected), atol=1e-12)


def expected_row(v):
    return np.array([v], dtype=np.float64)


def test_rbf_by_hand():
    enc = get_encoder("rbf", num_anchors=2, kernel_size=2.0)
    enc.fit(torch.tensor([[10.0, 20.0], [-30.0, 5.0]], dtype=torch.float64))
    a = enc.anchors.numpy()
    out = enc(torch.tensor([[10.0, 22.0]], dtype=torch.float64)).numpy()
    d2 = ((np.array([10.0, 22.0]) - a) ** 2).sum(1)
    np.testing.assert_allclose(out[0], np.exp(-d2 / 8.0), atol=1e-15)
    assert sorted(map(tuple, a.tolist())) == [(-30.0, 5.0), (10.0, 20.0)]


# ---- the formula in numpy at the test points ----------------------------------------------------


def _sincos_blocks(coords, f):
    ang = np.concatenate([c[:, None] * f for c in coords], axis=1)
    return np.concatenate((np.sin(ang), np.cos(ang)), axis=1)


@pytest.mark.parametrize("s,rmin,rmax", [(4, 0.5, 360.0), (7, 0.01, 360.0)])
def test_grid_formula(s, rmin, rmax):
    _, out = _enc("grid", frequency_num=s, min_radius=rmin, max_radius=rmax)
    lon, lat = PTS[:, 0], PTS[:, 1]
    np.testing.assert_allclose(out, _sincos_blocks([lon, lat], _geo(s, rmin, rmax)), atol=1e-9)


def test_theory_formula():
    s, rmin, rmax = 5, 0.1, 360.0
    _, out = _enc("theory", frequency_num=s, min_radius=rmin, max_radius=rmax)
    lon, lat = PTS[:, 0], PTS[:, 1]
    q = math.sqrt(3) / 2
    a = [lon, -0.5 * lon + q * lat, -0.5 * lon - q * lat]
    np.testing.assert_allclose(out, _sincos_blocks(a, _geo(s, rmin, rmax)), atol=1e-9)


def _sphere_parts(s, rmin, rmax):
    f = _geo(s, rmin, rmax)
    lon, lat = np.radians(PTS[:, 0:1]), np.radians(PTS[:, 1:2])
    return lon, lat, f * lon, f * lat


SPHERE = {
    "sphereC": lambda lo, la, L, P: [np.sin(P), np.cos(P) * np.cos(L), np.cos(P) * np.sin(L)],
    "sphereC+": lambda lo, la, L, P: [
        np.sin(P),
        np.cos(P),
        np.sin(L),
        np.cos(L),
        np.cos(P) * np.cos(L),
        np.cos(P) * np.sin(L),
    ],
    "sphereM": lambda lo, la, L, P: [
        np.sin(P),
        np.cos(P) * np.cos(lo),
        np.cos(la) * np.cos(L),
        np.cos(P) * np.sin(lo),
        np.cos(la) * np.sin(L),
    ],
    "sphereM+": lambda lo, la, L, P: [
        np.sin(P),
        np.cos(P) * np.cos(lo),
        np.cos(la) * np.cos(L),
        np.cos(P) * np.sin(lo),
        np.cos(la) * np.sin(L),
        np.cos(P),
        np.sin(L),
        np.cos(L),
    ],
}


@pytest.mark.parametrize("name", list(SPHERE))
def test_sphere_family_formula(name):
    s, rmin, rmax = 6, 0.001, 1.0
    _, out = _enc(name, frequency_num=s, min_radius=rmin, max_radius=rmax)
    np.testing.assert_allclose(out, np.concatenate(SPHERE[name](*_sphere_parts(s, rmin, rmax)), axis=1), atol=1e-9)


def test_sphere_m_plus_scales_are_distinct():
    # TorchSpatial's r_max^(−s/(S−1)) collapses to one scale with r_max = 1; ours must not
    _, out = _enc("sphereM+", frequency_num=4, min_radius=0.01, max_radius=1.0)
    sin_phi = out[:, :4]
    assert np.unique(np.round(sin_phi[0], 9)).size == 4


def test_dfs_formula():
    s, rmin, rmax = 3, 0.01, 1.0
    _, out = _enc("dfs", frequency_num=s, min_radius=rmin, max_radius=rmax)
    _, _, L, P = _sphere_parts(s, rmin, rmax)
    cross = [
        a[:, n] * b[:, m]
        for a in (np.cos(P), np.sin(P))
        for n in range(s)
        for b in (np.cos(L), np.sin(L))
        for m in range(s)
    ]
    expected = np.concatenate([np.stack(cross, 1), np.cos(P), np.sin(P), np.cos(L), np.sin(L)], axis=1)
    assert out.shape[1] == 4 * s * s + 4 * s
    np.testing.assert_allclose(out, expected, atol=1e-9)


def test_nerf_formula():
    L = 5
    _, out = _enc("nerf", frequency_num=L)
    lon, lat = np.radians(PTS[:, 0]), np.radians(PTS[:, 1])
    p = np.stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), 1)
    ang = (math.pi * p[:, :, None] * 2.0 ** np.arange(L)).reshape(len(p), -1)
    np.testing.assert_allclose(out, np.concatenate((np.sin(ang), np.cos(ang)), 1), atol=1e-9)


def test_nerf_default_octaves_accuracy():
    _, out = _enc("nerf")  # L = 16: the double-angle recurrence must hold up to π·2^15
    lon, lat = np.radians(PTS[:, 0]), np.radians(PTS[:, 1])
    p = np.stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)), 1)
    ang = (math.pi * p[:, :, None] * 2.0 ** np.arange(16)).reshape(len(p), -1)
    np.testing.assert_allclose(out, np.concatenate((np.sin(ang), np.cos(ang)), 1), atol=1e-6)


def test_rff_formula():
    enc, out = _enc("rff", frequency_num=32, kernel_size=4.0, extent=(-20.0, 40.0, -10.0, 50.0), seed=3)
    w, b = enc.omega.numpy(), enc.phase.numpy()
    xt = np.stack(((PTS[:, 0] + 20.0) / 60.0 * 2 - 1, (PTS[:, 1] + 10.0) / 60.0 * 2 - 1), 1)
    np.testing.assert_allclose(out, math.sqrt(2 / 32) * np.cos(xt @ w.T + b), atol=1e-9)
    # ω ~ N(0, κ): the sample variance of many frequencies is near κ
    big = get_encoder("rff", frequency_num=20000, kernel_size=4.0)
    assert abs(big.omega.var().item() - 4.0) < 0.2
    assert big.phase.min().item() >= 0.0 and big.phase.max().item() <= 2 * math.pi


def test_rff_default_extent_is_the_globe():
    enc = get_encoder("rff")
    assert enc.params["extent"] == (-180.0, 180.0, -90.0, 90.0)


def _equal_earth(lon_deg, lat_deg):
    a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
    lam, phi = np.radians(lon_deg), np.radians(lat_deg)
    th = np.arcsin(math.sqrt(3) / 2 * np.sin(phi))
    x = 2 * math.sqrt(3) * lam * np.cos(th) / (3 * (9 * a4 * th**8 + 7 * a3 * th**6 + 3 * a2 * th**2 + a1))
    y = a4 * th**9 + a3 * th**7 + a2 * th**3 + a1 * th
    return np.stack((x, y), 1) * 66.50336 / 180.0


def test_geoclip_formula():
    enc, out = _enc("geoclip", frequency_num=8, sigmas=(1.0, 16.0), seed=2)
    e = _equal_earth(PTS[:, 0], PTS[:, 1])
    b = enc.freqs.numpy()
    parts = []
    for k in range(2):
        v = 2 * math.pi * e @ b[8 * k : 8 * (k + 1)].T
        parts += [np.cos(v), np.sin(v)]
    np.testing.assert_allclose(out, np.concatenate(parts, 1), atol=1e-9)


def test_equal_earth_scaling():
    # x spans [−1, 1] along the equator; the pole sits at y = y(π/3)·SF/180
    e = _equal_earth(np.array([180.0, -180.0, 0.0]), np.array([0.0, 0.0, 90.0]))
    np.testing.assert_allclose(e[:2, 0], [1.0, -1.0], atol=1e-5)
    from geoenc.encoders.geoclip import equal_earth

    got = equal_earth(torch.tensor(PTS)).numpy()
    np.testing.assert_allclose(got, _equal_earth(PTS[:, 0], PTS[:, 1]), atol=1e-12)


def test_tile_cells():
    enc = get_encoder("tile", cell_size=10.0, dim=3)
    table = enc.table.detach().numpy()
    pts = np.array([[-180.0, -90.0], [180.0, -90.0], [-175.0, 89.0], [5.0, 90.0], [5.0, -0.5], [-5.0, 0.5]])
    out = enc(torch.tensor(pts)).detach().numpy()
    rows = 18
    col = np.floor(np.mod(pts[:, 0] + 180.0, 360.0) / 10.0).astype(int)
    row = np.minimum(np.floor((pts[:, 1] + 90.0) / 10.0).astype(int), rows - 1)
    np.testing.assert_array_equal(out, table[col * rows + row])
    np.testing.assert_array_equal(out[0], out[1])  # −180 and +180 share a column
    # neighbouring cells differ: the code is location-aware (TorchSpatial's tile is not)
    assert len({tuple(r) for r in out[[0, 2, 3, 4, 5]].round(6).tolist()}) == 5


def test_tile_cell_size_not_dividing_360():
    enc = get_encoder("tile", cell_size=7.0, dim=2)
    assert enc.n_cols == 52 and enc.n_rows == 26
    out = enc(torch.tensor([[179.9, 0.0], [-180.0, 0.0], [180.0, 0.0]], dtype=torch.float64))
    assert torch.equal(out[1], out[2]) and not torch.equal(out[0], out[1])
