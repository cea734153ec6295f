"""Deliberately slow, literal SSI references: one centre at a time, dense W, Python loops.

Two independent re-implementations written from the published descriptions, sharing no code with
geoenc.metrics.ssi (only the documented conventions: ties broken by squared distance in δ² units
quantised to 2⁻³², then by local index — presence points in input order, then the grid ring by ring):

- ``mode="pygbs"``: PyGBS's computation (seai-lab/PyGBS, ``gbs/ssi``): the background grid placed on the
  sphere (ring i at great-circle distance iδ, ⌈2πi⌉ points, the first due north and then towards the
  west, as PyGBS's pole grid rotated onto the centre), 4 nearest neighbours by great-circle (haversine)
  distance, PyGBS's closed-form μ and σ from the category counts, σ + 1.
- ``mode="exact"``: the grid and the 4 nearest neighbours in the centre's azimuthal-equidistant plane,
  the exact permutation mean and variance of S (Cliff & Ord's moments of Moran's I, rescaled), no pad.

Used by the tests and by benchmarks/geobias_speed.py as the speed baseline.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

EARTH_RADIUS_KM = 6371.0088


def _quant(d2):
    return np.minimum(np.rint(np.asarray(d2) * float(2**32)), 2**40).astype(np.int64)


def _hav(lat1, lon1, lat2, lon2):
    """Great-circle angle (radians) by the haversine formula (arrays broadcast)."""
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def neighbourhood(lon, lat, i, radius_rad, k):
    """Indices (sorted) of the points within radius among the k nearest of point i (i included)."""
    d = _hav(np.radians(lat[i]), np.radians(lon[i]), np.radians(lat), np.radians(lon))
    order = np.lexsort((np.arange(d.size), d))[: min(k, d.size)]
    return np.sort(order[d[order] <= radius_rad])


def local_xy(lon, lat, i, idx):
    """Azimuthal equidistant (x east, y north), radians, via spherical trigonometry."""
    lam0, phi0 = math.radians(lon[i]), math.radians(lat[i])
    out = []
    for j in idx:
        lam, phi = math.radians(lon[j]), math.radians(lat[j])
        dl = lam - lam0
        c = float(_hav(phi0, lam0, phi, lam))
        if c == 0.0:
            out.append((0.0, 0.0))
            continue
        beta = math.atan2(
            math.sin(dl) * math.cos(phi), math.cos(phi0) * math.sin(phi) - math.sin(phi0) * math.cos(phi) * math.cos(dl)
        )
        out.append((c * math.sin(beta), c * math.cos(beta)))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def grid_spacing(n, radius_rad):
    rho = math.ceil(5 * n / (math.pi * radius_rad**2))
    delta = 1 / math.sqrt(rho)
    return delta, math.ceil(radius_rad / delta)


def ring_directions(rings):
    """(ring, bearing) of every grid point; bearing clockwise from north; first point north, then west."""
    out = []
    for i in range(1, rings + 1):
        n_i = math.ceil(2 * math.pi * i)
        for j in range(n_i):
            out.append((i, -2 * math.pi * j / n_i))
    return out


def plane_grid(rings):
    """Grid in δ units (x east, y north)."""
    return np.array([(i * math.sin(b), i * math.cos(b)) for i, b in ring_directions(rings)], dtype=np.float64)


def sphere_grid(lat0, lon0, delta, rings):
    """Grid on the sphere around (lat0, lon0) (radians): destination points at distance iδ."""
    pts = []
    for i, b in ring_directions(rings):
        d = i * delta
        lat = math.asin(math.sin(lat0) * math.cos(d) + math.cos(lat0) * math.sin(d) * math.cos(b))
        lon = lon0 + math.atan2(
            math.sin(b) * math.sin(d) * math.cos(lat0), math.cos(d) - math.sin(lat0) * math.sin(lat)
        )
        pts.append((lat, lon))
    return np.array(pts, dtype=np.float64).reshape(-1, 2)


def knn4(keys):
    """Dense directed 4-NN 0/1 matrix from an (m, m) matrix of integer distance keys."""
    m = keys.shape[0]
    W = np.zeros((m, m))
    for a in range(m):
        order = [b for b in np.lexsort((np.arange(m), keys[a])) if b != a][:4]
        W[a, order] = 1.0
    return W


def cliff_ord(W, vals):
    """Exact permutation mean and σ of S = zᵀWz (Cliff & Ord's moments of Moran's I, rescaled)."""
    m = W.shape[0]
    z = vals - vals.mean()
    S0 = W.sum()
    S1 = 0.5 * ((W + W.T) ** 2).sum()
    S2 = ((W.sum(axis=0) + W.sum(axis=1)) ** 2).sum()
    m2 = (z**2).sum() / m
    b2 = ((z**4).sum() / m) / m2**2
    EI = -1 / (m - 1)
    A = m * ((m**2 - 3 * m + 3) * S1 - m * S2 + 3 * S0**2)
    B = b2 * ((m**2 - m) * S1 - 2 * m * S2 + 6 * S0**2)
    EI2 = (A - B) / ((m - 1) * (m - 2) * (m - 3) * S0**2)
    return EI * S0 * m2, math.sqrt(max(EI2 - EI**2, 0.0)) * S0 * m2


def pygbs_null(vals):
    """PyGBS's closed-form μ and σ (without its +1) from the distinct values and their counts."""
    cats, counts = np.unique(vals, return_counts=True)
    N = counts.sum()
    mean = (cats * counts).sum() / N
    dev = {c: c - mean for c in cats}
    num = dict(zip(cats, counts.astype(float), strict=True))
    mu = 0.0
    for a in cats:
        for b in cats:
            if a == b:
                mu += dev[a] ** 2 * (4 * num[a] * (num[a] - 1) / N - 1)
            else:
                mu += dev[a] * dev[b] * 4 * num[a] * num[b] / N
    top = cats[int(np.argmax(counts))]
    var = 0.0
    others = [c for c in cats if c != top]
    for a in others:
        for b in others:
            if a == b:
                var += (a - top) ** 4 * 8 * num[a] * (num[a] - 1) / N * (1 - 4 * (2 * num[a] - 1) / (3 * N))
            else:
                hi, lo = max(num[a], num[b]), min(num[a], num[b])
                coef = (dev[a] * dev[b] - 2 * dev[a] * dev[top] + dev[top] ** 2) ** 2
                var += coef * lo * (4 * hi / N) * (1 - 4 * hi / N)
    return mu, math.sqrt(var)


def centre_graph(lon, lat, i, idx, radius_rad, mode):
    """Union coordinates count, dense W and δ for centre i and presence indices ``idx``."""
    n = len(idx)
    delta, rings = grid_spacing(n, radius_rad)
    if mode == "exact":
        pts = np.concatenate((local_xy(lon, lat, i, idx) / delta, plane_grid(rings)))
        d2 = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2)
    else:
        lat0, lon0 = math.radians(lat[i]), math.radians(lon[i])
        pres = np.column_stack((np.radians(np.asarray(lat)[idx]), np.radians(np.asarray(lon)[idx])))
        pts = np.concatenate((pres.reshape(-1, 2), sphere_grid(lat0, lon0, delta, rings)))
        d = _hav(pts[:, None, 0], pts[:, None, 1], pts[None, :, 0], pts[None, :, 1])
        d2 = (d / delta) ** 2
    return knn4(_quant(d2))


def ssi_one(lon, lat, i, idx, values, radius_rad, mode):
    """(SSI, S, μ, σ) of one neighbourhood: presence indices and their values."""
    n = len(idx)
    if n == 0:
        return 0.0, 0.0, 0.0, 1.0 if mode == "pygbs" else 0.0
    W = centre_graph(lon, lat, i, idx, radius_rad, mode)
    vals = np.concatenate((np.asarray(values, dtype=np.float64), np.zeros(W.shape[0] - n)))
    z = vals - vals.mean()
    S = float(z @ W @ z)
    if mode == "exact":
        mu, sigma = cliff_ord(W, vals)
    else:
        mu, sigma = pygbs_null(vals)
        sigma += 1.0
    low = min(S, 2 * mu - S)
    p = 2 * norm.cdf(low, loc=mu, scale=sigma) if sigma > 0 else 1.0
    return -math.log(p + 1e-256), S, mu, sigma


def reference_ssi(lon, lat, bad, centres, radius_km, k, unmarked_presence="low", mode="exact", full=False):
    """(unmarked, marked) SSI for the given centre indices; with ``full`` also (S, μ, σ) per score."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    bad = np.asarray(bad, dtype=bool)
    r = radius_km / EARTH_RADIUS_KM
    un, mk = [], []
    for i in centres:
        idx = neighbourhood(lon, lat, i, r, k)
        marks = np.where(bad[idx], -1.0, 1.0)
        mk.append(ssi_one(lon, lat, i, idx, marks, r, mode))
        sel = idx if unmarked_presence == "all" else idx[bad[idx]]
        un.append(ssi_one(lon, lat, i, sel, np.ones(sel.size), r, mode))
    if full:
        return np.array(un), np.array(mk)
    return np.array([u[0] for u in un]), np.array([m[0] for m in mk])
