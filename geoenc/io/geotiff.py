"""Writing GeoTIFFs: tiled (256), compressed, nodata set, band descriptions, atomic (temp file + rename).

Imports rasterio only; neither torch nor typer. Used for geo-bias hot-spot rasters and prediction maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geoenc.errors import OutputError, UsageError
from geoenc.io.atomic import AtomicFile, dest_path, writing

TILE = 256


def write_geotiff(
    path: str | Path | AtomicFile,
    bands: Sequence[np.ndarray],
    names: Sequence[str],
    bounds: tuple[float, float, float, float] | None = None,
    transform=None,
    crs: str = "EPSG:4326",
    nodata: float | int | None = np.nan,
    overwrite: bool = False,
    *,
    dtype: str | np.dtype | None = None,
    compress: str = "deflate",
    overviews: bool = False,
) -> Path:
    """Write 2-D arrays (row 0 = north) as the bands of one GeoTIFF and return its path.

    Georeferencing: ``bounds=(west, south, east, north)`` in ``crs`` units, or an affine ``transform``.
    ``dtype`` defaults to the common dtype of the bands (float32 when they are float64, to halve the file).
    ``compress``: deflate (default), zstd or lzw. ``overviews`` adds 2×…16× average overviews.
    The file appears only when complete; an existing file is refused unless ``overwrite``.
    """
    import rasterio
    from affine import Affine
    from rasterio.enums import Resampling

    arrays = [np.asarray(b) for b in bands]
    if not arrays:
        raise UsageError("write_geotiff needs at least one band")
    if len(names) != len(arrays):
        raise UsageError(f"{len(arrays)} bands but {len(names)} band names")
    shape = arrays[0].shape
    if len(shape) != 2 or any(a.shape != shape for a in arrays):
        raise UsageError(f"bands must be 2-D arrays of one shape, got {[a.shape for a in arrays]}")
    if (bounds is None) == (transform is None):
        raise UsageError("give exactly one of bounds=(west, south, east, north) or transform")
    height, width = shape
    if transform is None:  # = rasterio.transform.from_bounds, without its deprecation warning
        west, south, east, north = bounds
        transform = Affine((east - west) / width, 0.0, west, 0.0, -(north - south) / height, north)
    if dtype is None:
        dtype = np.result_type(*arrays)
        if dtype == np.float64:
            dtype = np.float32
        if dtype == np.bool_:
            dtype = np.uint8
    dtype = np.dtype(dtype)
    if nodata is not None and np.isnan(nodata) and dtype.kind != "f":
        raise UsageError(f"nodata NaN needs a float dtype, not {dtype}")
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": len(arrays),
        "dtype": dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": TILE,
        "blockysize": TILE,
        "compress": compress,
        "interleave": "band",
        "BIGTIFF": "IF_SAFER",
    }
    if compress in ("deflate", "zstd", "lzw"):
        profile["predictor"] = 3 if dtype.kind == "f" else 2
    try:
        with writing(path, overwrite) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            for i, (arr, name) in enumerate(zip(arrays, names, strict=False), start=1):
                dst.write(arr.astype(dtype, copy=False), i)
                dst.set_band_description(i, str(name))
            if overviews and min(height, width) >= TILE:
                factors = [f for f in (2, 4, 8, 16) if min(height, width) // f >= TILE // 2]
                if factors:
                    dst.build_overviews(factors, Resampling.average)
                    dst.update_tags(ns="rio_overview", resampling="average")
    except rasterio.errors.RasterioError as exc:
        raise OutputError(f"cannot write GeoTIFF {str(path)!r}: {exc}") from None
    return dest_path(path)
