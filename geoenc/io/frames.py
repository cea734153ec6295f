"""Points from what a notebook holds, and frames back: the Python API's input and output adapter.

:func:`as_points` turns a geopandas GeoDataFrame or GeoSeries (any CRS, reprojected to lon/lat WGS84), a pandas
DataFrame with longitude/latitude columns (the names the file readers accept), an ``(N, 2)`` array of lon/lat
degrees, or a :class:`~geoenc.io.points.Points` into :class:`~geoenc.io.points.Points`, with the same coordinate
checks (and one-line errors) as the file readers. :func:`to_frame` attaches result columns to a copy of the
user's frame. Pure pandas/geopandas/pyarrow: no torch; pandas and geopandas are only touched when the input is
one of theirs.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from geoenc.errors import InputError, UsageError
from geoenc.io.coords import PYTHON_OPTIONS, numeric_column, points_from_geometries, to_lonlat, validate_lonlat
from geoenc.io.points import Points
from geoenc.io.read import LAT_NAMES, LON_NAMES, _crs_text, _find, _short
from geoenc.io.write import LAYOUTS, flat_names

__all__ = ["as_points", "check_layout", "is_frame", "to_frame"]


def _is(data: Any, module: str, name: str) -> bool:
    """isinstance without importing ``module``: an object of a module nobody imported cannot be its type."""
    mod = sys.modules.get(module)
    return mod is not None and isinstance(data, getattr(mod, name, ()))


def is_frame(data: Any) -> bool:
    """True for a pandas DataFrame (a geopandas GeoDataFrame included)."""
    return _is(data, "pandas", "DataFrame")


def as_points(
    data: Any,
    *,
    lon: str | None = None,
    lat: str | None = None,
    crs: Any = None,
    centroid: bool = False,
    wrap_lon: bool = False,
) -> Points:
    """What a user holds → :class:`Points` of validated lon/lat degrees and the other columns as a pyarrow table.

    Args:
        data: a ``geopandas.GeoDataFrame`` or ``GeoSeries`` (reprojected from its CRS), a ``pandas.DataFrame``
            with longitude/latitude columns (``lon``/``lng``/``longitude``/``x`` and ``lat``/``latitude``/``y``,
            any case), an array-like of shape ``(N, 2)`` (lon, lat), or :class:`Points`.
        lon, lat: the coordinate column names of a DataFrame (also to read a GeoDataFrame's columns instead of
            its geometry).
        crs: the CRS of the coordinates (``"EPSG:3857"``, a ``pyproj.CRS``, an EPSG code): for arrays and
            DataFrame columns that are not lon/lat degrees, or to override a GeoDataFrame's CRS.
        centroid: use a representative point of non-point geometries instead of refusing them.
        wrap_lon: wrap longitudes outside [-180, 180] instead of refusing them.

    Returns:
        :class:`Points`: ``lon``/``lat`` ``(N,)`` float64 degrees (WGS84) and ``attrs``, every other column
        (a GeoDataFrame's other geometry columns as WKB).

    Raises:
        InputError: no coordinates found, non-point or missing geometries, a GeoDataFrame without a CRS,
            NaN/out-of-range coordinates, an empty input or a column pyarrow cannot hold (one line each).
    """
    if (lon is None) != (lat is None):
        raise UsageError("give both lon= and lat= (the coordinate column names), or neither")
    if isinstance(data, Points):
        if crs is not None or lon is not None:
            raise UsageError("Points are lon/lat degrees already: crs=, lon= and lat= apply to frames and arrays")
        _check_rows(len(data))
        checked = validate_lonlat(data.lon, data.lat, data.offset, wrap_lon, names=PYTHON_OPTIONS)
        return data if checked is data.lon else Points(checked, data.lat, data.attrs, data.offset, data.source_crs)
    if _is(data, "geopandas", "GeoDataFrame") and lon is None:
        if data.geometry.name not in data.columns:
            raise InputError("the GeoDataFrame has no active geometry column: set one with .set_geometry(name)")
        x, y, crs_text = _geometry_xy(data.geometry, crs, centroid, "GeoDataFrame")
        return _finish(x, y, _attrs(data, {data.geometry.name}), crs_text, wrap_lon)
    if _is(data, "geopandas", "GeoSeries"):
        x, y, crs_text = _geometry_xy(data, crs, centroid, "GeoSeries")
        return _finish(x, y, pa.table({}), crs_text, wrap_lon)
    if is_frame(data):
        return _from_dataframe(data, lon, lat, crs, wrap_lon)
    if _is(data, "pandas", "Series"):
        raise InputError(
            "a pandas Series holds one column: pass the DataFrame with longitude and latitude columns, "
            "or a geopandas GeoSeries of points"
        )
    if lon is not None:
        raise UsageError("lon= and lat= name DataFrame columns; an array is read as (N, 2) lon, lat")
    return _from_array(data, crs, wrap_lon)


def _check_rows(n: int) -> None:
    if n == 0:
        raise InputError("the input holds no points: it is empty")


def _finish(x: np.ndarray, y: np.ndarray, attrs: pa.Table, crs_text: str | None, wrap_lon: bool) -> Points:
    _check_rows(len(x))
    lon, lat = to_lonlat(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), crs_text)
    lon = validate_lonlat(lon, lat, 0, wrap_lon, names=PYTHON_OPTIONS)
    return Points(lon=lon, lat=lat, attrs=attrs, source_crs=crs_text or "OGC:CRS84")


def _geometry_xy(series: Any, crs: Any, centroid: bool, what: str) -> tuple[np.ndarray, np.ndarray, str | None]:
    if crs is None and series.crs is None:
        raise InputError(
            f"the {what} has no CRS: set it first, e.g. .set_crs('EPSG:4326') when its coordinates are lon/lat "
            "degrees, or pass crs=..."
        )
    crs_text = _crs_text(crs if crs is not None else series.crs)
    _check_rows(len(series))
    x, y = points_from_geometries(np.asarray(series.array, dtype=object), 0, centroid, names=PYTHON_OPTIONS)
    return x, y, crs_text


def _column_name(name: Any) -> str:
    return name if isinstance(name, str) else str(name)


def _attrs(df: Any, drop: set[Any]) -> pa.Table:
    """Every column of ``df`` but ``drop`` and ``lon``/``lat`` (as the file readers keep them) as a pyarrow table."""
    if not df.columns.is_unique:
        dup = df.columns[df.columns.duplicated()][0]
        raise InputError(f"the DataFrame has two columns named {dup!r}: rename one")
    arrays: dict[str, pa.Array] = {}
    for name in df.columns:
        if name in drop or name in ("lon", "lat"):
            continue
        col = df[name]
        if getattr(col.dtype, "name", "") == "geometry":  # another geometry column: keep it as WKB
            import shapely

            arrays[_column_name(name)] = pa.array(shapely.to_wkb(np.asarray(col.array, dtype=object)), pa.binary())
            continue
        try:
            arrays[_column_name(name)] = pa.array(col, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise InputError(
                f"column {name!r} cannot be read ({_short(exc)}): give it one type per column, or drop it"
            ) from None
    return pa.table(arrays)


def _from_dataframe(df: Any, lon: str | None, lat: str | None, crs: Any, wrap_lon: bool) -> Points:
    by_name = {_column_name(c): c for c in df.columns}
    names = list(by_name)
    lon_col: str | None
    lat_col: str | None
    if lon is not None and lat is not None:  # the caller checked that both or neither are given
        for col in (lon, lat):
            if col not in by_name:
                raise InputError(f"column {col!r} is not in the DataFrame (columns: {', '.join(names) or 'none'})")
        lon_col, lat_col = lon, lat
    else:
        lon_col, lat_col = _find(names, LON_NAMES), _find(names, LAT_NAMES)
        if lon_col is None or lat_col is None:
            raise InputError(
                f"found no longitude/latitude columns in the DataFrame (columns: {', '.join(names) or 'none'}): "
                "name them with lon=/lat=, or pass a geopandas GeoDataFrame"
            )
    _check_rows(len(df))
    x = numeric_column(pa.array(df[by_name[lon_col]], from_pandas=True), lon_col, 0)
    y = numeric_column(pa.array(df[by_name[lat_col]], from_pandas=True), lat_col, 0)
    crs_text = _crs_text(crs) if crs is not None else None
    drop = {by_name[lon_col], by_name[lat_col]}
    if _is(df, "geopandas", "GeoDataFrame") and df.geometry.name in df.columns:
        drop.add(df.geometry.name)  # lon=/lat= chose the columns over the geometry
    return _finish(x, y, _attrs(df, drop), crs_text, wrap_lon)


def _from_array(data: Any, crs: Any, wrap_lon: bool) -> Points:
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"cannot read a {type(data).__name__} as lon/lat numbers: pass a GeoDataFrame, a DataFrame with "
            "longitude/latitude columns, or an (N, 2) array of lon/lat degrees"
        ) from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        hint = ""
        if arr.shape == (2,):
            hint = " (one point is [[lon, lat]])"
        elif arr.ndim == 2 and arr.shape[0] == 2:
            hint = " (lon and lat as rows? pass the transpose, array.T)"
        raise InputError(f"expected an (N, 2) array of lon/lat degrees, got shape {arr.shape}{hint}")
    return _finish(arr[:, 0], arr[:, 1], pa.table({}), _crs_text(crs) if crs is not None else None, wrap_lon)


def check_layout(layout: str) -> str:
    """Refuse a layout other than ``list`` or ``columns`` (one line, before any work)."""
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    return layout


def to_frame(data: Any, points: Points, columns: Mapping[str, Any], *, layout: str = "list", geo: bool = False) -> Any:
    """A copy of the user's frame with ``columns`` attached (a new frame for arrays and GeoSeries).

    Args:
        data: what :func:`as_points` read ``points`` from. A DataFrame/GeoDataFrame is copied (its index and
            columns kept); a GeoSeries becomes a GeoDataFrame of its geometry; anything else a DataFrame with
            ``lon``/``lat`` and the points' attributes.
        points: the points read from ``data`` (row for row).
        columns: name → ``(N,)`` values or ``(N, D)`` arrays; a column of the same name is replaced.
        layout: how an ``(N, D)`` array is attached: ``list`` (one column holding a ``(D,)`` array per row)
            or ``columns`` (``emb_0…`` for ``embedding``, else ``<name>_0…``).
        geo: return a GeoDataFrame even when ``data`` is not one (point geometry from ``lon``/``lat``, OGC:CRS84).

    Returns:
        a ``pandas.DataFrame`` or ``geopandas.GeoDataFrame`` of ``N`` rows.
    """
    import pandas as pd

    check_layout(layout)
    if is_frame(data):
        out = data.copy(deep=False)
    elif _is(data, "geopandas", "GeoSeries"):
        import geopandas as gpd

        out = gpd.GeoDataFrame(geometry=data)
    else:
        out = points.attrs.to_pandas() if points.attrs.num_columns else pd.DataFrame(index=pd.RangeIndex(len(points)))
        out.insert(0, "lat", points.lat)
        out.insert(0, "lon", points.lon)
    if geo and not _is(out, "geopandas", "GeoDataFrame"):
        import geopandas as gpd

        out = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(points.lon, points.lat), crs="OGC:CRS84")
    geometry = out.geometry.name if _is(out, "geopandas", "GeoDataFrame") else None
    flat: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        if name == geometry:
            raise UsageError(f"{name!r} is the frame's geometry column: choose another column name")
        arr = values if isinstance(values, np.ndarray) else np.asarray(values)
        if arr.ndim == 2 and layout == "list":
            cell = np.empty(arr.shape[0], dtype=object)
            cell[:] = list(arr)
            out[name] = pd.Series(cell, index=out.index, dtype=object)
        elif arr.ndim == 2:
            flat.update(zip(flat_names(name, arr.shape[1]), arr.T, strict=True))
        else:
            out[name] = arr
    if flat:
        block = pd.DataFrame(flat, index=out.index)
        out = pd.concat([out.drop(columns=[c for c in flat if c in out.columns]), block], axis=1)
    return out
