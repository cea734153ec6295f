"""Turning raw coordinate values and geometries into validated lon/lat degrees.

Everything here works on numpy arrays for one batch; ``offset`` is the 0-based index of the batch's
first row in the whole input, so messages name the row a user can find (rows are counted from 1,
the header of a CSV not included).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geoenc.errors import InputError, UsageError

if TYPE_CHECKING:
    from pyproj import CRS, Transformer

WGS84_NAMES = {"EPSG:4326", "OGC:CRS84", "WGS84", "CRS84", "EPSG:4979", "OGC:CRS84H"}


@dataclass(frozen=True)
class OptionNames:
    """How error messages name the coordinate options: the command line's flags or the Python API's arguments."""

    crs: str = "--crs"
    centroid: str = "--centroid"
    wrap_lon: str = "--wrap-lon"
    #: what else a user can do with non-point geometries (appended to the message)
    centroid_alternative: str = ""


#: the command line's spelling (the default everywhere)
CLI_OPTIONS = OptionNames()
#: the Python API's spelling (:func:`geoenc.io.frames.as_points`)
PYTHON_OPTIONS = OptionNames(
    crs="crs=...",
    centroid="centroid=True",
    wrap_lon="wrap_lon=True",
    centroid_alternative=", or convert them first with .representative_point()",
)


@dataclass(frozen=True)
class CoordOptions:
    """How to turn an input's coordinates into lon/lat: the options every reader shares."""

    crs: str | None = None  # CRS of the input when the file does not say (CSV), or to override
    centroid: bool = False  # use a representative point of non-point geometries
    wrap_lon: bool = False  # wrap longitudes outside [-180, 180] instead of refusing them
    lon_col: str | None = None
    lat_col: str | None = None
    geometry_col: str | None = None
    encoding: str | None = None  # of a text input (CSV, GeoJSON) that is not UTF-8 and has no byte-order mark


def parse_crs(text: str) -> CRS:
    """A pyproj CRS from user text, or a one-line UsageError."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(text)
    except (CRSError, TypeError, ValueError):
        raise UsageError(
            f"unknown CRS {text!r}: give an authority code such as EPSG:3857, a PROJ string or WKT"
        ) from None


@lru_cache(maxsize=16)
def _transformer(crs_text: str) -> Transformer:
    from pyproj import CRS, Transformer

    return Transformer.from_crs(CRS.from_user_input(crs_text), CRS("OGC:CRS84"), always_xy=True)


def to_lonlat(x: np.ndarray, y: np.ndarray, crs_text: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Reproject x/y in ``crs_text`` (axis order x=easting/longitude first) to lon/lat degrees."""
    if crs_text is None or crs_text.upper() in WGS84_NAMES:
        return x, y
    lon, lat = _transformer(crs_text).transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def validate_lonlat(
    lon: np.ndarray, lat: np.ndarray, offset: int, wrap_lon: bool, *, names: OptionNames = CLI_OPTIONS
) -> np.ndarray:
    """Refuse NaN/inf and out-of-range coordinates with one line naming the count and the first row.

    Returns ``lon`` (wrapped into [-180, 180) when ``wrap_lon`` and it was outside [-180, 180]). ``names``
    spells the options the messages suggest (the CLI's flags by default).
    """
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        i = _first(bad)
        raise InputError(
            f"{int(bad.sum())} point(s) have missing, NaN or infinite coordinates; first at row "
            f"{offset + i + 1} (lon={lon[i]}, lat={lat[i]}): drop or fix those rows"
        )
    bad = np.abs(lat) > 90
    if bad.any():
        i = _first(bad)
        raise InputError(
            f"{int(bad.sum())} point(s) have latitude outside [-90, 90]; first at row {offset + i + 1} "
            f"(lat={lat[i]}): are longitude and latitude swapped, or is the data in another CRS (use {names.crs})?"
        )
    bad = np.abs(lon) > 180
    if bad.any():
        if wrap_lon:
            lon = np.where(bad, (lon + 180.0) % 360.0 - 180.0, lon)
        else:
            i = _first(bad)
            raise InputError(
                f"{int(bad.sum())} point(s) have longitude outside [-180, 180]; first at row "
                f"{offset + i + 1} (lon={lon[i]}): pass {names.wrap_lon} to wrap them, or {names.crs} if the data "
                "is projected"
            )
    return lon


def numeric_column(col: pa.ChunkedArray | pa.Array, name: str, offset: int) -> np.ndarray:
    """A float64 numpy array from a column of numbers or numeric strings; bad text names its row."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_decimal(col.type):
        floats: np.ndarray = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return floats
    if pa.types.is_null(col.type):
        return np.full(len(col), np.nan)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        stripped = pc.utf8_trim_whitespace(col)
        empty = pc.equal(stripped, "")
        cleaned = pc.if_else(empty, pa.scalar(None, pa.string()), stripped)
        try:
            parsed: np.ndarray = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
            return parsed
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        values = cleaned.to_pylist()
        for i, v in enumerate(values):
            if v is None:
                continue
            try:
                float(v)
            except ValueError:
                n_bad = sum(1 for w in values if w is not None and not _is_number(w))
                raise InputError(
                    f"column {name!r} has {n_bad} non-numeric value(s); first at row {offset + i + 1} ({v!r})"
                ) from None
        raise InputError(f"column {name!r} could not be read as numbers")
    raise InputError(
        f"column {name!r} has type {col.type}, not numbers: name the coordinate columns with --lon-col/--lat-col"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def points_from_geometries(
    geoms: np.ndarray, offset: int, centroid: bool, *, names: OptionNames = CLI_OPTIONS
) -> tuple[np.ndarray, np.ndarray]:
    """x/y of shapely geometries: points as they are, others refused or reduced to a representative point."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        i = _first(missing)
        raise InputError(
            f"{int(missing.sum())} row(s) have a missing or empty geometry; first at row {offset + i + 1}: "
            "drop those rows"
        )
    types = shapely.get_type_id(geoms)
    not_point = types != 0
    if not_point.any():
        if not centroid:
            i = _first(not_point)
            kind = shapely.get_type_id(geoms[i])
            kinds = {
                1: "LineString",
                2: "LinearRing",
                3: "Polygon",
                4: "MultiPoint",
                5: "MultiLineString",
                6: "MultiPolygon",
                7: "GeometryCollection",
            }
            raise InputError(
                f"{int(not_point.sum())} geometries are not points (first at row {offset + i + 1}: "
                f"{kinds.get(int(kind), 'other')}); pass {names.centroid} to use a representative point of each"
                f"{names.centroid_alternative}"
            )
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return shapely.get_x(geoms), shapely.get_y(geoms)
