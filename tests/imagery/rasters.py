"""Small synthetic rasters written with rasterio, shared by the imagery and CLI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin


def write_raster(path: Path, data: np.ndarray, crs: str | None = "EPSG:4326", transform=None, nodata=None) -> Path:
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    count, height, width = data.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": data.dtype.name,
        "transform": transform if transform is not None else from_origin(0, height, 1, 1),
    }
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    return path


def indexed(height: int, width: int, bands: int = 1) -> np.ndarray:
    """Pixel (b, r, c) holds b*100000 + r*1000 + c: every value says where it came from."""
    b, r, c = np.meshgrid(np.arange(bands), np.arange(height), np.arange(width), indexing="ij")
    return (b * 100_000 + r * 1000 + c).astype(np.float32)


def global_raster(path: Path, deg: float = 10.0, bands: int = 1) -> Path:
    """A whole-globe lon/lat raster of deg-degree pixels (−180…180, −90…90), values from :func:`indexed`."""
    w, h = round(360 / deg), round(180 / deg)
    return write_raster(path, indexed(h, w, bands), "EPSG:4326", from_origin(-180, 90, deg, deg))


def toy_image(height: int = 96, width: int = 96, seed: int = 0) -> np.ndarray:
    """Two bands of smooth stripes and blobs: learnable by a small autoencoder in a few epochs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    a = np.sin(xx / 4.0) * np.cos(yy / 6.0)
    b = (((xx // 12) + (yy // 12)) % 2).astype(np.float32)
    noise = 0.05 * rng.standard_normal((2, height, width)).astype(np.float32)
    return (np.stack([a, b]) + noise).astype(np.float32)
