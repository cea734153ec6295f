"""A deliberately slow, straightforward SSI: one centre at a time, dense W, Python loops.

It follows the steps of geoenc.metrics.ssi's docstring literally and shares no code with it (only the
documented conventions: azimuthal-equidistant frame in δ units, 2^-32 δ² distance quantum, ties by
local index). Used by the tests and by benchmarks/geobias_speed.py as the speed baseline.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

EARTH_RADIUS_KM = 6371.0088


def _quant(d2):
    return np.minimum(np.rint(d2 * float(2**32)), 2**40).astype(np.int64)


def neighbourhood(lon, lat, i, radius_rad, k):
    """Indices (sorted) of the points within radius among the k nearest of point i (i included)."""
    lam, phi = np.radians(lon), np.radians(lat)
    h = np.sin((phi - phi[i]) / 2) ** 2 + np.cos(phi) * np.cos(phi[i]) * np.sin((lam - lam[i]) / 2) ** 2
    d = 2 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    order = np.lexsort((np.arange(d.size), d))[: min(k, d.size)]
    return np.sort(order[d[order] <= radius_rad])


def local_xy(lon, lat, i, idx):
    """Azimuthal equidistant (x east, y north), radians, via spherical trigonometry."""
    lam0, phi0 = math.radians(lon[i]), math.radians(lat[i])
    out = []
    for j in idx:
        lam, phi = math.radians(lon[j]), math.radians(lat[j])
        dl = lam - lam0
        h = math.sin((phi - phi0) / 2) ** 2 + math.cos(phi) * math.cos(phi0) * math.sin(dl / 2) ** 2
        c = 2 * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))
        if c == 0.0:
            out.append((0.0, 0.0))
            continue
        beta = math.atan2(
            math.sin(dl) * math.cos(phi), math.cos(phi0) * math.sin(phi) - math.sin(phi0) * math.cos(phi) * math.cos(dl)
        )
        out.append((c * math.sin(beta), c * math.cos(beta)))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def background(rings):
    pts = []
    for i in range(1, rings + 1):
        n_i = math.ceil(2 * math.pi * i)
        for j in range(n_i):
            t = -math.pi + 2 * math.pi * j / n_i
            pts.append((i * math.cos(t), i * math.sin(t)))
    return np.array(pts, dtype=np.float64)


def ssi_one(xy_rad, values, radius_rad):
    """SSI of one neighbourhood: presence coords (radians, local frame) and their values."""
    n = xy_rad.shape[0]
    if n == 0:
        return 0.0
    rho = math.ceil(5 * n / (math.pi * radius_rad**2))
    delta = 1 / math.sqrt(rho)
    rings = math.ceil(radius_rad / delta)
    pts = np.concatenate((xy_rad / delta, background(rings)))
    vals = np.concatenate((np.asarray(values, dtype=np.float64), np.zeros(pts.shape[0] - n)))
    m = pts.shape[0]
    W = np.zeros((m, m))
    for a in range(m):
        d2 = (pts[:, 0] - pts[a, 0]) ** 2 + (pts[:, 1] - pts[a, 1]) ** 2
        order = [b for b in np.lexsort((np.arange(m), _quant(d2))) if b != a][:4]
        W[a, order] = 1.0
    z = vals - vals.mean()
    S = float(z @ W @ z)
    # Cliff-Ord randomisation moments of I, rescaled to S = I * S0 * m2
    S0 = W.sum()
    S1 = 0.5 * ((W + W.T) ** 2).sum()
    S2 = ((W.sum(axis=0) + W.sum(axis=1)) ** 2).sum()
    m2 = (z**2).sum() / m
    b2 = ((z**4).sum() / m) / m2**2
    EI = -1 / (m - 1)
    A = m * ((m**2 - 3 * m + 3) * S1 - m * S2 + 3 * S0**2)
    B = b2 * ((m**2 - m) * S1 - 2 * m * S2 + 6 * S0**2)
    EI2 = (A - B) / ((m - 1) * (m - 2) * (m - 3) * S0**2)
    mu = EI * S0 * m2
    sigma = math.sqrt(max(EI2 - EI**2, 0.0)) * S0 * m2 + 1.0
    low = min(S, 2 * mu - S)
    p = 2 * norm.cdf(low, loc=mu, scale=sigma)
    return -math.log(p + 1e-256)


def reference_ssi(lon, lat, bad, centres, radius_km, k, unmarked_presence="low"):
    """(unmarked, marked) SSI for the given centre indices."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    r = radius_km / EARTH_RADIUS_KM
    un, mk = [], []
    for i in centres:
        idx = neighbourhood(lon, lat, i, r, k)
        xy = local_xy(lon, lat, i, idx)
        marks = np.where(bad[idx], -1.0, 1.0)
        mk.append(ssi_one(xy, marks, r))
        sel = np.ones(idx.size, bool) if unmarked_presence == "all" else bad[idx]
        un.append(ssi_one(xy[sel], np.ones(int(sel.sum())), r))
    return np.array(un), np.array(mk)
