"""Neighbour graphs on the sphere: k nearest neighbours and distance bands.

Points are turned into 3-D unit vectors; the chord between two unit vectors is monotone in their
great-circle distance, so a Euclidean k-d tree (``scipy.spatial.cKDTree``) on the unit vectors finds
exactly the great-circle nearest neighbours, far faster than a haversine ball tree.
Pure numpy/scipy; no torch, no typer.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), used to turn kilometres into angles."""


def lonlat_to_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """``(N, 3)`` float64 unit vectors for lon/lat in degrees."""
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    cphi = np.cos(phi)
    return np.column_stack((cphi * np.cos(lam), cphi * np.sin(lam), np.sin(phi)))


def km_to_rad(km: float) -> float:
    """Great-circle distance in kilometres → central angle in radians."""
    return float(km) / EARTH_RADIUS_KM


def rad_to_chord(rad: float | np.ndarray) -> float | np.ndarray:
    """Central angle (radians) → chord length between unit vectors."""
    return 2.0 * np.sin(np.minimum(np.asarray(rad, dtype=np.float64), np.pi) / 2.0)


def knn_indices(xyz: np.ndarray, k: int, workers: int = -1) -> np.ndarray:
    """``(N, k)`` int64 indices of each point's k nearest other points (self excluded), nearest first.

    Self is removed by index, so duplicated locations are neighbours of each other. Requires N > k.
    """
    n = xyz.shape[0]
    if k < 1 or n <= k:
        raise ValueError(f"need more points ({n}) than neighbours k={k}")
    tree = cKDTree(xyz)
    _, idx = tree.query(xyz, k=k + 1, workers=workers)
    idx = np.asarray(idx, dtype=np.int64)
    rows = np.arange(n)[:, None]
    is_self = idx == rows
    # rows where self was not returned (more than k+1 duplicates): drop the last column instead
    missing = ~is_self.any(axis=1)
    is_self[missing, -1] = True
    neighbours: np.ndarray = idx[~is_self].reshape(n, k)
    return neighbours


def knn_weights(xyz: np.ndarray, k: int, self_weight: bool = False, workers: int = -1) -> sparse.csr_matrix:
    """Binary k-nearest-neighbour weights as a CSR matrix (directed: row i → its k neighbours).

    With ``self_weight`` the diagonal is 1 (the Gi* convention: each point is its own neighbour).
    """
    n = xyz.shape[0]
    idx = knn_indices(xyz, k, workers=workers)
    cols = idx
    if self_weight:
        cols = np.column_stack((np.arange(n), idx))
    width = cols.shape[1]
    indptr = np.arange(0, n * width + 1, width, dtype=np.int64)
    data = np.ones(n * width, dtype=np.float64)
    w = sparse.csr_matrix((data, cols.ravel(), indptr), shape=(n, n))
    w.sort_indices()
    return w


def distance_band_weights(xyz: np.ndarray, radius_km: float, self_weight: bool = False) -> sparse.csr_matrix:
    """Binary weights: 1 between points within ``radius_km`` (great-circle), symmetric.

    Points with no neighbour inside the band keep an empty row (or only themselves with ``self_weight``).
    """
    n = xyz.shape[0]
    chord = float(rad_to_chord(km_to_rad(radius_km)))
    tree = cKDTree(xyz)
    pairs = tree.query_pairs(chord, output_type="ndarray")
    rows = np.concatenate((pairs[:, 0], pairs[:, 1]))
    cols = np.concatenate((pairs[:, 1], pairs[:, 0]))
    if self_weight:
        rows = np.concatenate((rows, np.arange(n)))
        cols = np.concatenate((cols, np.arange(n)))
    w = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    w.sum_duplicates()
    w.data[:] = 1.0
    w.sort_indices()
    return w
