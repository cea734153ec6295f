"""geoenc.io.frames: frames → Points (attributes as pyarrow) and result columns → a copy of the frame."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from geoenc.errors import InputError, UsageError
from geoenc.io import Points
from geoenc.io.frames import as_points, to_frame


def _gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "kind": pd.Categorical(["a", "b", "a"]),
            "n": [1, 2, 3],
            7: [0.5, 1.5, 2.5],
            "lon": [9.0, 9.0, 9.0],  # a stale copy of the coordinates, dropped like the file readers drop it
            "outline": gpd.GeoSeries([shapely.box(0, 0, 1, 1)] * 3),
        },
        geometry=gpd.points_from_xy([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]),
        crs="EPSG:4326",
    )


def test_attributes_become_a_pyarrow_table():
    pts = as_points(_gdf())
    np.testing.assert_array_equal(pts.lonlat(), [[1, 10], [2, 20], [3, 30]])
    assert pts.attrs.column_names == ["kind", "n", "7", "outline"]
    assert pa.types.is_dictionary(pts.attrs.schema.field("kind").type)
    assert pa.types.is_binary(pts.attrs.schema.field("outline").type)
    assert shapely.from_wkb(pts.attrs.column("outline")[0].as_py()).equals(shapely.box(0, 0, 1, 1))


def test_lon_lat_columns_of_a_geodataframe_win_over_its_geometry():
    gdf = _gdf().assign(lat=[5.0, 6.0, 7.0])
    pts = as_points(gdf, lon="lon", lat="lat")
    np.testing.assert_array_equal(pts.lon, [9, 9, 9])
    assert "geometry" not in pts.attrs.column_names and "outline" in pts.attrs.column_names


def test_duplicate_column_names_are_refused():
    df = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["lon", "lat", "lon"])
    with pytest.raises(InputError, match="two columns named 'lon'"):
        as_points(df, lon="lat", lat="lat")


def test_to_frame_for_each_kind_of_input():
    gdf = _gdf()
    pts = as_points(gdf)
    cols = {"score": np.array([1.0, 2.0, 3.0]), "embedding": np.eye(3, dtype=np.float32)}
    out = to_frame(gdf, pts, cols)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == gdf.crs and "score" not in gdf.columns
    assert out["embedding"].iloc[1].tolist() == [0, 1, 0]
    wide = to_frame(gdf, pts, cols, layout="columns")
    assert isinstance(wide, gpd.GeoDataFrame) and list(wide.columns[-3:]) == ["emb_0", "emb_1", "emb_2"]
    series = to_frame(gdf.geometry, as_points(gdf.geometry), {"score": cols["score"]})
    assert isinstance(series, gpd.GeoDataFrame) and list(series.columns) == ["geometry", "score"]
    arr = to_frame(pts.lonlat(), pts, {"score": cols["score"]})
    assert type(arr) is pd.DataFrame and list(arr.columns) == ["lon", "lat", "kind", "n", "7", "outline", "score"]
    geo = to_frame(pts.lonlat(), pts, {"score": cols["score"]}, geo=True)
    assert isinstance(geo, gpd.GeoDataFrame) and geo.crs.equals("OGC:CRS84")
    np.testing.assert_array_equal(np.column_stack((geo.geometry.x, geo.geometry.y)), pts.lonlat())
    replaced = to_frame(gdf, pts, {"n": np.zeros(3)})
    assert list(replaced.columns) == list(gdf.columns) and (replaced["n"] == 0).all() and (gdf["n"] > 0).all()
    with pytest.raises(UsageError, match="geometry column"):
        to_frame(gdf, pts, {"geometry": np.zeros(3)})


def test_points_batches_cover_every_row_once():
    pts = Points(np.arange(10.0), np.zeros(10), pa.table({"i": list(range(10))}), offset=5)
    parts = pts.batches(4)
    assert [len(p) for p in parts] == [4, 4, 2] and [p.offset for p in parts] == [5, 9, 13]
    assert [i for p in parts for i in p.attrs.column("i").to_pylist()] == list(range(10))
    assert len(pts.slice(8, 100)) == 2
