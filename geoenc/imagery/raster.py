"""Reading square chips of pixels around points from any raster rasterio opens.

Pixel convention: a point falls in the pixel ``(row, col) = floor(~transform * (x, y))`` of the raster
(``x, y`` in the raster's CRS); its chip of ``size × size`` pixels starts at ``(row - size // 2,
col - size // 2)``, so the point's own pixel sits at index ``[size // 2, size // 2]`` of the chip
(the centre for odd sizes, just below and right of it for even ones).

Pixels beyond the raster's edge and pixels masked as nodata (nodata value, internal mask or alpha band,
non-finite floats) come back as NaN in float32 chips. A global lon/lat raster (geographic CRS whose
columns span 360°) wraps at the antimeridian: a chip straddling ±180° takes its columns from the
other edge. Imports neither torch nor typer.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from geoenc.errors import InputError, ParameterError, UsageError

if TYPE_CHECKING:
    from rasterio.crs import CRS

#: rasters whose selected bands fit in this many bytes (as float32) are read once into memory
MAX_IN_MEMORY_BYTES = 1 << 30


def parse_bands(text: str | Sequence[int] | None) -> list[int] | None:
    """``"1,2,3"`` → ``[1, 2, 3]`` (1-based band numbers); ``None``/``""`` → all bands."""
    if text is None:
        return None
    if isinstance(text, str):
        if not text.strip():
            return None
        out = []
        for part in text.split(","):
            part = part.strip()
            if not part.isdigit() or int(part) < 1:
                raise UsageError(f"--bands takes 1-based band numbers separated by commas (e.g. 1,2,3), got {text!r}")
            out.append(int(part))
    else:
        out = [int(b) for b in text]
    if not out:
        raise UsageError("--bands lists no band")
    if len(set(out)) != len(out):
        raise UsageError(f"--bands lists a band twice: {text!r}")
    return out


@dataclass(frozen=True)
class Pixels:
    """Where points fall in a raster: pixel row/column (columns already wrapped on a global raster)."""

    row: np.ndarray
    col: np.ndarray
    inside: np.ndarray


class ChipReader:
    """An open raster that cuts float32 chips ``(N, bands, size, size)`` around points or pixels.

    Small rasters (the selected bands below ``max_memory`` bytes as float32) are read once into memory
    and chips are gathered with numpy; larger ones are read window by window.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        size: int = 32,
        bands: str | Sequence[int] | None = None,
        *,
        max_memory: int = MAX_IN_MEMORY_BYTES,
    ) -> None:
        import rasterio
        from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

        self.path = os.fspath(path)  # not str(): that of an os.PathLike other than a Path is its repr
        if not Path(self.path).exists():
            raise InputError(f"raster {self.path!r} does not exist")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self.ds = rasterio.open(self.path)
        except (RasterioIOError, OSError) as e:
            msg = " ".join(str(e).split())[:200]
            raise InputError(
                f"cannot read raster {self.path!r} ({msg}): give a GeoTIFF or another GDAL raster"
            ) from None
        try:
            self._check(size, bands, max_memory)
        except BaseException:
            self.ds.close()
            raise

    def _check(self, size: int, bands: str | Sequence[int] | None, max_memory: int) -> None:
        ds = self.ds
        if ds.crs is None:
            raise InputError(f"raster {self.path!r} has no CRS: assign one first (e.g. gdal_edit.py -a_srs EPSG:4326)")
        t = ds.transform
        if t.b != 0 or t.d != 0:
            raise InputError(f"raster {self.path!r} is rotated or sheared: warp it to a north-up grid first (gdalwarp)")
        self.bands = parse_bands(bands) or list(range(1, ds.count + 1))
        bad = [b for b in self.bands if b > ds.count]
        if bad:
            raise ParameterError(f"--bands {bad[0]} does not exist: raster {self.path!r} has {ds.count} band(s)")
        size = int(size)
        if size < 1:
            raise ParameterError(f"--size must be at least 1, got {size}")
        if size > ds.width or size > ds.height:
            raise ParameterError(
                f"--size {size} is larger than raster {self.path!r} ({ds.width}×{ds.height} pixels): "
                f"choose --size {min(ds.width, ds.height)} or less"
            )
        self.size = size
        self.width, self.height = ds.width, ds.height
        self.transform = t
        self.crs = ds.crs
        self.wrap = bool(ds.crs.is_geographic and abs(abs(t.a) * ds.width - 360.0) < 0.5 * abs(t.a))
        names = []
        for i in self.bands:
            desc = ds.descriptions[i - 1] if ds.descriptions else None
            names.append(desc or f"band_{i}")
        self.band_names = names
        self._to_raster = None
        if not _is_lonlat(ds.crs):
            from pyproj import Transformer

            self._to_raster = Transformer.from_crs("OGC:CRS84", ds.crs.to_wkt(), always_xy=True)
        self._data = None
        if len(self.bands) * ds.width * ds.height * 4 <= max_memory:
            self._data = self._read(0, ds.height, 0, ds.width)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self.ds.close()

    def __enter__(self) -> ChipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- geometry ------------------------------------------------------------------------------------
    def crs_label(self) -> str:
        epsg = self.crs.to_epsg()
        return f"EPSG:{epsg}" if epsg else self.crs.to_wkt()

    def pixels(self, lon: np.ndarray, lat: np.ndarray) -> Pixels:
        """The pixel each lon/lat (WGS84 degrees) falls in; ``inside`` is False beyond the raster."""
        lon = np.asarray(lon, np.float64)
        lat = np.asarray(lat, np.float64)
        if self._to_raster is not None:
            with np.errstate(all="ignore"):
                x, y = self._to_raster.transform(lon, lat)
            x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        else:
            x, y = lon, lat
        inv = ~self.transform
        with np.errstate(invalid="ignore"):
            colf = inv.a * x + inv.b * y + inv.c
            rowf = inv.d * x + inv.e * y + inv.f
        finite = np.isfinite(colf) & np.isfinite(rowf)
        col = np.where(finite, np.floor(np.where(finite, colf, 0)), -1).astype(np.int64)
        row = np.where(finite, np.floor(np.where(finite, rowf, 0)), -1).astype(np.int64)
        if self.wrap:
            col = np.mod(col, self.width)
        inside = finite & (row >= 0) & (row < self.height) & (col >= 0) & (col < self.width)
        return Pixels(row=row, col=col, inside=inside)

    def chip_origin(self, row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-left pixel (row0, col0) of the chips centred on these pixels (may lie beyond the raster)."""
        h = self.size // 2
        return np.asarray(row) - h, np.asarray(col) - h

    # -- reading -------------------------------------------------------------------------------------
    def _read(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Bands × rows × cols float32 of a window inside the raster, NaN where masked."""
        import rasterio
        from rasterio.windows import Window

        w = Window(c0, r0, c1 - c0, r1 - r0)
        try:
            data: np.ndarray = self.ds.read(self.bands, window=w, out_dtype="float32")
            mask = self.ds.read_masks(self.bands, window=w)
        except rasterio.errors.RasterioError as exc:
            raise InputError(
                f"cannot read raster {self.path!r} at rows {r0}–{r1}, columns {c0}–{c1} ({exc}): is the file "
                "complete (a truncated or damaged GeoTIFF)?"
            ) from None
        data[mask == 0] = np.nan
        return data

    def chips(self, row: np.ndarray, col: np.ndarray, batch: int = 2048) -> np.ndarray:
        """Chips ``(N, bands, size, size)`` float32 centred on pixels (row, col); NaN beyond edges/nodata."""
        row = np.asarray(row, np.int64).reshape(-1)
        col = np.asarray(col, np.int64).reshape(-1)
        n, s, nb = row.shape[0], self.size, len(self.bands)
        out = np.empty((n, nb, s, s), np.float32)
        r0, c0 = self.chip_origin(row, col)
        ar = np.arange(s)
        for i in range(0, n, batch):
            rr = r0[i : i + batch, None] + ar  # (n, s)
            cc = c0[i : i + batch, None] + ar
            if self.wrap:
                cc = np.mod(cc, self.width)
            if self._data is not None:
                out[i : i + batch] = self._gather(self._data, rr, cc)
            else:
                for k in range(rr.shape[0]):
                    out[i + k] = self._window_chip(rr[k], cc[k])
        return out

    def _gather(self, data: np.ndarray, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        """Chips gathered from ``data``, the raster's bands held in memory."""
        vr = (rr >= 0) & (rr < self.height)
        vc = (cc >= 0) & (cc < self.width)
        rci = np.clip(rr, 0, self.height - 1)
        cci = np.clip(cc, 0, self.width - 1)
        # (bands, n, s, s) → (n, bands, s, s)
        block = data[:, rci[:, :, None], cci[:, None, :]].transpose(1, 0, 2, 3)
        valid = (vr[:, :, None] & vc[:, None, :])[:, None]
        chips: np.ndarray = np.where(valid, block, np.float32(np.nan))
        return chips

    def _window_chip(self, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        s = self.size
        out = np.full((len(self.bands), s, s), np.nan, np.float32)
        vr = np.nonzero((rr >= 0) & (rr < self.height))[0]
        vc = np.nonzero((cc >= 0) & (cc < self.width))[0]
        if vr.size == 0 or vc.size == 0:
            return out
        ra, rb = int(rr[vr[0]]), int(rr[vr[-1]]) + 1
        # valid columns form at most two runs of consecutive pixels (two when wrapping at ±180°)
        breaks = np.nonzero(np.diff(cc[vc]) != 1)[0] + 1
        for run in np.split(vc, breaks):
            ca, cb = int(cc[run[0]]), int(cc[run[-1]]) + 1
            block = self._read(ra, rb, ca, cb)
            out[:, vr[0] : vr[-1] + 1, run[0] : run[-1] + 1] = block
        return out

    def chip_transforms(self, row0: np.ndarray, col0: np.ndarray) -> np.ndarray:
        """``(N, 6)`` affine coefficients (a, b, c, d, e, f) of each chip's own pixel grid."""
        t = self.transform
        row0 = np.asarray(row0, np.float64)
        col0 = np.asarray(col0, np.float64)
        c = t.c + t.a * col0 + t.b * row0
        f = t.f + t.d * col0 + t.e * row0
        n = row0.shape[0]
        return np.column_stack([np.full(n, t.a), np.full(n, t.b), c, np.full(n, t.d), np.full(n, t.e), f])

    def raster_info(self) -> dict[str, Any]:
        t = self.transform
        return {
            "raster": self.path,
            "raster_crs": self.crs_label(),
            "raster_transform": [t.a, t.b, t.c, t.d, t.e, t.f],
            "raster_shape": [self.height, self.width],
            "bands": self.bands,
            "band_names": self.band_names,
            "wraps_antimeridian": self.wrap,
        }


def _is_lonlat(crs: CRS) -> bool:
    """True for a geographic CRS whose axes we can use as lon/lat degrees directly (WGS84 and kin)."""
    if not crs.is_geographic:
        return False
    epsg = crs.to_epsg()
    return epsg in (4326, 4979) or "CRS84" in crs.to_string().upper()


def valid_fraction(chips: np.ndarray) -> np.ndarray:
    """Share of a chip's pixels where every band holds a value, ``(N,)`` float32."""
    if chips.shape[0] == 0:
        return np.zeros(0, np.float32)
    ok = np.isfinite(chips).all(axis=1)
    fraction: np.ndarray = ok.reshape(ok.shape[0], -1).mean(axis=1).astype(np.float32)
    return fraction


def outside_message(count: int, total: int, first_row: int, lon: float, lat: float, raster: str) -> str:
    """The one-line error for points outside a raster; ``first_row`` is 0-based, shown 1-based like every row."""
    return (
        f"{count:,} of {total:,} points lie outside raster {raster!r} (first: row {first_row + 1}, "
        f"lon {lon:.6g}, lat {lat:.6g}): pass --skip-outside to drop them"
    )
