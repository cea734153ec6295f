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


def knn_indices(
    xyz: np.ndarray, k: int, workers: int = -1, *, tree: cKDTree | None = None, rows: slice | None = None
) -> np.ndarray:
    """``(N, k)`` int64 indices of each point's k nearest other points (self excluded), nearest first.

    Self is removed by index, so duplicated locations are neighbours of each other. Requires N > k.
    ``rows``: only those points' neighbours (among all points; a partition of the graph), with ``tree`` the
    k-d tree of all points when the caller has it. Each row is the same whichever rows are asked for.
    """
    n = xyz.shape[0]
    if k < 1 or n <= k:
        raise ValueError(f"need more points ({n}) than neighbours k={k}")
    tree = cKDTree(xyz) if tree is None else tree
    sel = slice(0, n) if rows is None else rows
    _, idx = tree.query(xyz[sel], k=k + 1, workers=workers)
    idx = np.asarray(idx, dtype=np.int64)
    ids = np.arange(n)[sel][:, None]
    is_self = idx == ids
    # rows where self was not returned (more than k+1 duplicates): drop the last column instead
    missing = ~is_self.any(axis=1)
    is_self[missing, -1] = True
    neighbours: np.ndarray = idx[~is_self].reshape(ids.shape[0], k)
    return neighbours


def rows_matrix(cols: np.ndarray, n: int) -> sparse.csr_matrix:
    """Binary weights ``(R, n)`` from ``(R, w)`` neighbour indices per row, column indices sorted."""
    r, width = cols.shape
    indptr = np.arange(0, r * width + 1, width, dtype=np.int64)
    w = sparse.csr_matrix((np.ones(r * width, dtype=np.float64), cols.ravel(), indptr), shape=(r, n))
    w.sort_indices()
    return w


def knn_weights(xyz: np.ndarray, k: int, self_weight: bool = False, workers: int = -1) -> sparse.csr_matrix:
    """Binary k-nearest-neighbour weights as a CSR matrix (directed: row i → its k neighbours).

    With ``self_weight`` the diagonal is 1 (the Gi* convention: each point is its own neighbour).
    """
    return knn_matrix(knn_indices(xyz, k, workers=workers), self_weight)


def knn_matrix(
    idx: np.ndarray, self_weight: bool = False, first_row: int = 0, n: int | None = None
) -> sparse.csr_matrix:
    """The weights rows of :func:`knn_weights` from neighbour indices ``idx`` of rows ``first_row …``."""
    n = idx.shape[0] if n is None else n
    cols = np.column_stack((np.arange(first_row, first_row + idx.shape[0]), idx)) if self_weight else idx
    return rows_matrix(cols, n)


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


def distance_band_rows(xyz: np.ndarray, radius_km: float, tree: cKDTree, rows: slice) -> sparse.csr_matrix:
    """Rows ``rows`` of :func:`distance_band_weights` with ``self_weight`` (a partition of the graph).

    Built from a ball query of those points against every point (the same pairs as the whole graph's).
    """
    n = xyz.shape[0]
    chord = float(rad_to_chord(km_to_rad(radius_km)))
    lists = tree.query_ball_point(xyz[rows], chord, return_sorted=True)
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    cols = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if len(lists) else np.zeros(0, np.int64)
    w = sparse.csr_matrix((np.ones(cols.size), cols, indptr), shape=(len(lists), n))
    w.sort_indices()
    return w
