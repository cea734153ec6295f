"""``geoenc.encode(ddf, …)``: embeddings of a ``dask_geopandas.GeoDataFrame``, as another lazy one.

The encoder is built (and fitted, for encoders that need data) once, wrapped in ``dask.delayed`` so the graph
holds it once (each worker receives it once), and applied with ``map_partitions`` and an exact ``meta``: the
frame's columns plus ``emb_0 … emb_{D-1}`` float32 columns (the default, ``layout="columns"``), or with
``layout="list"`` one ``embedding`` column of ``pd.ArrowDtype(fixed_size_list<float32>[D])``, the type geoenc
writes to GeoParquet. (Columns are the default because pandas 3 cannot read its own metadata for a fixed-size
list column back from Parquet: ``ddf.to_parquet`` works, but reading the files back needs
``dtype_backend="pyarrow"``.) Nothing is computed until
the caller computes or writes the frame (``ddf.to_parquet(…)``). Points in a projected CRS are reprojected to
lon/lat first; a frame without a CRS is taken as lon/lat degrees.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geoenc.errors import InputError, UsageError
from geoenc.workflows.encode import Embedder


def is_dask_frame(obj: object) -> bool:
    """True for a dask (or dask-geopandas) DataFrame, without importing dask."""
    module = type(obj).__module__
    return module.startswith(("dask.", "dask_geopandas", "dask_expr")) and hasattr(obj, "map_partitions")


def _crs_text(crs: Any) -> str | None:
    if crs is None:
        return None
    from pyproj import CRS

    parsed = CRS.from_user_input(crs)
    if parsed.equals(CRS("OGC:CRS84")) or parsed.to_epsg() == 4326:
        return None
    wkt: str = parsed.to_wkt()
    return wkt


def _lonlat(gdf: Any) -> np.ndarray:
    from geoenc.io.coords import to_lonlat, validate_lonlat

    geom = gdf.geometry
    if len(geom) and not (geom.geom_type == "Point").all():
        kinds = sorted(set(geom.geom_type.dropna()) - {"Point"})
        raise InputError(f"geoenc.encode needs point geometries, found {', '.join(kinds) or 'missing ones'}")
    x = geom.x.to_numpy(dtype=np.float64)
    y = geom.y.to_numpy(dtype=np.float64)
    lon, lat = to_lonlat(x, y, _crs_text(gdf.crs))
    lon = validate_lonlat(lon, lat, 0, False)
    return np.column_stack((lon, lat))


def _embedding_frame(values: np.ndarray, index: Any, layout: str, column: str = "embedding") -> Any:
    import pandas as pd
    import pyarrow as pa

    if layout == "columns":
        prefix = "emb" if column == "embedding" else column  # as geoenc.io.frames.to_frame names them
        return pd.DataFrame(values, index=index, columns=[f"{prefix}_{j}" for j in range(values.shape[1])])
    arr = pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(values).reshape(-1)), values.shape[1])
    return pd.DataFrame({column: pd.Series(pd.arrays.ArrowExtensionArray(arr), index=index)})


def _encode_partition(gdf: Any, embedder: Embedder, layout: str, column: str = "embedding") -> Any:
    import pandas as pd

    values = embedder(_lonlat(gdf)) if len(gdf) else np.zeros((0, embedder.dim), dtype=np.float32)
    new = _embedding_frame(values.astype(np.float32, copy=False), gdf.index, layout, column)
    return pd.concat([gdf, new], axis=1)  # one block for the D columns (assigning them one by one fragments)


def encode_frame(
    ddf: Any,
    method: str | None = None,
    *,
    model: str | None = None,
    column: str = "embedding",
    layout: str = "columns",
    device: str = "auto",
    dtype: str = "float32",
    batch_size: int = 65_536,
    seed: int = 0,
    **params: Any,
) -> Any:
    """A lazy frame: ``ddf`` with the embedding of each point (see the module docstring).

    ``method``/``params`` (default ``sphereM``) or ``model`` (a model folder) as in ``geoenc encode``. An encoder
    fitted on data (rbf) is fitted on every point of the frame first (that computes the coordinates once).
    """
    from dask.base import compute
    from dask.delayed import delayed

    if layout not in ("list", "columns"):
        raise UsageError(f"unknown layout {layout!r}: choose list or columns")
    if not hasattr(ddf, "geometry"):
        raise UsageError("geoenc.encode takes a dask_geopandas.GeoDataFrame (with a geometry column)")
    embedder = Embedder(method, params, model=model, device=device, dtype=dtype, batch_size=batch_size)
    if embedder.needs_fit:
        lonlat = np.concatenate(compute(*[delayed(_lonlat)(p) for p in ddf.to_delayed()]))  # type: ignore[no-untyped-call]
        embedder.fit(lonlat, seed=seed)
    embedder.finish()
    meta = _encode_partition(ddf._meta, embedder, layout, column)
    return ddf.map_partitions(_encode_partition, delayed(embedder, pure=False), layout, column, meta=meta)
