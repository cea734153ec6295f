"""A toy pre-training set whose features are a known smooth function of location, and small settings."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from geoenc.pretrain import PretrainConfig
from geoenc.training import PointData

SMALL_NET = {"hidden": 32, "out": 16, "dropout": 0.1}


def toy_lonlat(n: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return np.column_stack([lon, lat])


def toy_features(lonlat: np.ndarray) -> np.ndarray:
    """Five features that are a fixed function of the point on the sphere."""
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    x, y, z = np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)
    return np.column_stack([x, y, z, x * y, np.sin(3 * z)]).astype(np.float32)


def toy_data(n: int = 256, seed: int = 0) -> PointData:
    ll = toy_lonlat(n, seed)
    return PointData(ll, features=toy_features(ll))


def toy_table(n: int = 160, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pa.Table]:
    ll = toy_lonlat(n, seed)
    f = toy_features(ll)
    labels = np.where(ll[:, 1] > 0, "north", "south")
    attrs = pa.table(
        {
            "feat": pa.array(list(f), pa.list_(pa.float32())),
            "hemisphere": pa.array(list(labels)),
            "name": pa.array([f"p{i}" for i in range(n)]),
        }
    )
    return ll[:, 0], ll[:, 1], attrs


def small_config(**kw) -> PretrainConfig:
    base = dict(
        method="xyz",
        net="ffn",
        net_params=dict(SMALL_NET),
        epochs=6,
        batch_size=64,
        lr=3e-3,
        seed=0,
        device="cpu",
        projection_hidden=32,
    )
    base.update(kw)
    return PretrainConfig(**base)
