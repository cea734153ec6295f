"""Small synthetic data sets shared by the model, training and CLI tests of location models."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from geoenc.training import PointData, TrainConfig

SMALL_NET = {"hidden": 32, "out": 16, "dropout": 0.0}


def quadrants(n: int = 400, seed: int = 0) -> PointData:
    """Four classes by hemisphere pair: easy to learn from xyz."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = rng.uniform(-70, 70, n)
    lab = np.where(lon > 0, np.where(lat > 0, "NE", "SE"), np.where(lat > 0, "NW", "SW")).astype(object)
    return PointData(np.column_stack([lon, lat]), lab, label_kind="categorical", label_name="region")


def smooth_values(n: int = 400, seed: int = 0) -> PointData:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = rng.uniform(-70, 70, n)
    y = 100.0 + 20.0 * np.sin(np.radians(lat)) + 5.0 * np.cos(np.radians(lon))
    return PointData(np.column_stack([lon, lat]), y, label_kind="numeric", label_name="value")


def small_config(**kw) -> TrainConfig:
    base = dict(
        method="xyz", net="ffn", net_params=dict(SMALL_NET), epochs=4, batch_size=64, lr=1e-2, seed=0, device="cpu"
    )
    base.update(kw)
    return TrainConfig(**base)


def point_table(n: int = 300, seed: int = 0, with_features: bool = False, with_prior: bool = False):
    """lon, lat, attrs for a labelled file: region (4 classes), value (float), optional list columns."""
    d = quadrants(n, seed)
    v = smooth_values(n, seed)
    cols = {
        "region": pa.array(list(d.labels), pa.string()),
        "value": pa.array(v.labels),
        "name": pa.array([f"p{i}" for i in range(n)]),
    }
    if with_features:
        rng = np.random.default_rng(seed)
        cols["feat"] = pa.array(list(rng.normal(size=(n, 5)).astype(np.float32)), pa.list_(pa.float32()))
    if with_prior:
        prior = np.full((n, 4), 0.25)
        cols["prior"] = pa.array(list(prior), pa.list_(pa.float64()))
    return d.lonlat[:, 0], d.lonlat[:, 1], pa.table(cols)
