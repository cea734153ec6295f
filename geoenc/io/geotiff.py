"""Writing Cloud-Optimized GeoTIFFs: tiled (256), compressed, overviews, nodata, band names, atomic.

Every GeoTIFF geoenc writes goes through :class:`CogWriter`: the caller fills a temporary tiled GTiff
beside the destination (block by block, so memory stays bounded), then :meth:`CogWriter.commit` copies it
with GDAL's COG driver (overviews, IFDs ahead of the image data, tiles in the order the COG layout asks
for) into a second temporary file, which is renamed onto the destination only when complete. Colour
tables, band descriptions, units, tags and nodata are carried by the copy.

Imports rasterio only; neither torch nor typer.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from geoenc.errors import OutputError, UsageError
from geoenc.io.atomic import AtomicFile, dest_path, open_target

if TYPE_CHECKING:
    from affine import Affine
    from rasterio.windows import Window

TILE = 256
COMPRESSIONS = ("deflate", "zstd", "lzw")
#: GDAL's block cache while writing and copying (MB): bounds memory for any raster size
CACHE_MB = 256


class CogWriter:
    """A Cloud-Optimized GeoTIFF being written: fill it with :meth:`write` (a tiled GTiff), then :meth:`commit`.

    ``names``/``units``: one per band (units may be None or ``""`` where a band has none). ``tags``: dataset
    metadata; ``colormap``: a colour table for band 1 (``{index: (r, g, b, a)}``). ``resampling`` picks
    the overview resampling (default: ``nearest`` for integer bands, ``average`` for float ones).
    Use as a context manager: an exception discards everything; a clean exit commits.
    """

    def __init__(
        self,
        dest: str | Path | AtomicFile,
        *,
        width: int,
        height: int,
        names: Sequence[str],
        dtype: str | np.dtype,
        transform: Affine,
        crs: str = "EPSG:4326",
        nodata: float | int | None = None,
        overwrite: bool = False,
        compress: str = "deflate",
        units: Sequence[str | None] | None = None,
        tags: Mapping[str, object] | None = None,
        colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
        resampling: str | None = None,
    ) -> None:
        import rasterio

        dtype = np.dtype(dtype)
        if compress not in COMPRESSIONS:
            raise UsageError(f"unknown GeoTIFF compression {compress!r}: choose one of {', '.join(COMPRESSIONS)}")
        if units is not None and len(units) != len(names):
            raise UsageError(f"{len(names)} bands but {len(units)} band units")
        self.dest = dest_path(dest)
        self.compress = compress
        self.resampling = resampling or ("average" if dtype.kind == "f" else "nearest")
        # refuses an existing file now, before any work; an AtomicFile of an Outputs group is committed by the group
        self._atomic, self._own = open_target(dest, overwrite)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.dest.name}.", suffix=".src.part", dir=self.dest.parent)
        os.close(fd)
        self._src = Path(tmp)
        self._done = False
        profile = {
            "driver": "GTiff",
            "width": width,
            "height": height,
            "count": len(names),
            "dtype": dtype.name,
            "crs": crs,
            "transform": transform,
            "nodata": nodata,
            "tiled": True,
            "blockxsize": TILE,
            "blockysize": TILE,
            "interleave": "band",
            # the intermediate file is read once: fast compression keeps its disk use small
            "compress": "zstd",
            "zstd_level": 1,
            "BIGTIFF": "IF_SAFER",
        }
        try:
            with rasterio.Env(GDAL_CACHEMAX=CACHE_MB):
                self.ds = rasterio.open(self._src, "w", **profile)
            for i, name in enumerate(names, start=1):
                self.ds.set_band_description(i, str(name))
                if units is not None and units[i - 1]:
                    self.ds.set_band_unit(i, str(units[i - 1]))
            if tags:
                self.ds.update_tags(**{k: str(v) for k, v in tags.items()})
            if colormap:
                self.ds.write_colormap(1, dict(colormap))
        except rasterio.errors.RasterioError as exc:
            self._cleanup()
            raise OutputError(f"cannot write GeoTIFF {str(dest)!r}: {exc}") from None
        except BaseException:
            self._cleanup()
            raise

    def write(
        self, array: np.ndarray, indexes: int | Sequence[int] | None = None, window: Window | None = None
    ) -> None:
        """``rasterio``'s ``write`` into the intermediate GTiff, with GDAL's block cache capped at :data:`CACHE_MB`.

        Without the cap GDAL keeps up to 5 % of the machine's memory in dirty blocks (a 0.02° global map:
        peak RSS 1.2 GB instead of 0.45 GB; docs/formats.md).
        """
        import rasterio

        with rasterio.Env(GDAL_CACHEMAX=CACHE_MB):
            self.ds.write(array, indexes=indexes, window=window)

    def commit(self, overviews: bool = True) -> Path:
        """Copy the filled GTiff into COG layout (with overviews unless told not to) and rename it into place."""
        import rasterio
        import rasterio.shutil

        options = {
            "driver": "COG",
            "compress": self.compress.upper(),
            "predictor": "YES",
            "blocksize": TILE,
            "overviews": "AUTO" if overviews else "NONE",
            "overview_resampling": self.resampling,
            "BIGTIFF": "IF_SAFER",
        }
        try:
            with rasterio.Env(GDAL_CACHEMAX=CACHE_MB):
                self.ds.close()
                rasterio.shutil.copy(self._src, self._atomic.path, **options)
        except rasterio.errors.RasterioError as exc:
            self._cleanup()
            raise OutputError(f"cannot write GeoTIFF {str(self.dest)!r}: {exc}") from None
        except BaseException:
            self._cleanup()
            raise
        self._drop_source()
        if self._own:
            self._atomic.commit()
        self._done = True
        return self.dest

    def abort(self) -> None:
        """Throw away everything written so far."""
        self._cleanup()

    def _drop_source(self) -> None:
        if hasattr(self, "ds"):
            with contextlib.suppress(Exception):  # closing a dataset that failed half-way may raise again
                self.ds.close()
        with contextlib.suppress(FileNotFoundError):
            self._src.unlink()

    def _cleanup(self) -> None:
        self._drop_source()
        if self._own:
            self._atomic.discard()

    def __enter__(self) -> CogWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import rasterio

        if exc_type is None:
            if not self._done:
                self.commit()
            return
        self.abort()
        if isinstance(exc, rasterio.errors.RasterioError):
            raise OutputError(f"cannot write GeoTIFF {str(self.dest)!r}: {exc}") from None


def write_geotiff(
    path: str | Path | AtomicFile,
    bands: Sequence[np.ndarray],
    names: Sequence[str],
    bounds: tuple[float, float, float, float] | None = None,
    transform: Affine | None = None,
    crs: str = "EPSG:4326",
    nodata: float | int | None = np.nan,
    overwrite: bool = False,
    *,
    dtype: str | np.dtype | None = None,
    compress: str = "deflate",
    overviews: bool = True,
    units: Sequence[str | None] | None = None,
    tags: Mapping[str, object] | None = None,
) -> Path:
    """Write 2-D arrays (row 0 = north) as the bands of one Cloud-Optimized GeoTIFF and return its path.

    Georeferencing: ``bounds=(west, south, east, north)`` in ``crs`` units, or an affine ``transform``.
    ``dtype`` defaults to the common dtype of the bands (float32 when they are float64, to halve the file).
    ``compress``: deflate (default), zstd or lzw. ``overviews``: average (float) or nearest (integer)
    overviews down to one tile, as the COG layout recommends. ``units``: a unit per band (None for none).
    The file appears only when complete; an existing file is refused unless ``overwrite``.
    """
    from affine import Affine

    arrays = [np.asarray(b) for b in bands]
    if not arrays:
        raise UsageError("write_geotiff needs at least one band")
    if len(names) != len(arrays):
        raise UsageError(f"{len(arrays)} bands but {len(names)} band names")
    shape = arrays[0].shape
    if len(shape) != 2 or any(a.shape != shape for a in arrays):
        raise UsageError(f"bands must be 2-D arrays of one shape, got {[a.shape for a in arrays]}")
    height, width = shape
    exactly_one = "give exactly one of bounds=(west, south, east, north) or transform"
    if transform is None:  # = rasterio.transform.from_bounds, without its deprecation warning
        if bounds is None:
            raise UsageError(exactly_one)
        west, south, east, north = bounds
        transform = Affine((east - west) / width, 0.0, west, 0.0, -(north - south) / height, north)
    elif bounds is not None:
        raise UsageError(exactly_one)
    if dtype is None:
        dtype = np.result_type(*arrays)
        if dtype == np.float64:
            dtype = np.dtype(np.float32)
        if dtype == np.bool_:
            dtype = np.dtype(np.uint8)
    dtype = np.dtype(dtype)
    if nodata is not None and np.isnan(nodata) and dtype.kind != "f":
        raise UsageError(f"nodata NaN needs a float dtype, not {dtype}")
    with CogWriter(
        path,
        width=width,
        height=height,
        names=names,
        dtype=dtype,
        transform=transform,
        crs=crs,
        nodata=nodata,
        overwrite=overwrite,
        compress=compress,
        units=units,
        tags=tags,
    ) as cog:
        for i, arr in enumerate(arrays, start=1):
            cog.write(arr.astype(dtype, copy=False), i)
        cog.commit(overviews=overviews)
    return dest_path(path)
