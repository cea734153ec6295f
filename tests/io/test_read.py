"""Readers: formats, streaming, coordinate validation, reprojection."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pytest

from geoenc.errors import InputError
from geoenc.io import CoordOptions, open_points, read_points, write_points
from geoenc.io.coords import numeric_column, validate_lonlat
from geoenc.io.formats import sniff_format


def test_parquet_streams_in_batches(tmp_path):
    lon = np.linspace(-180, 180, 1000)
    lat = np.linspace(-90, 90, 1000)
    path = tmp_path / "p.parquet"
    write_points(path, lon, lat, pa.table({"i": np.arange(1000)}))
    stream = open_points(path, batch_rows=128)
    assert stream.total_rows == 1000
    batches = list(stream)
    assert max(len(b) for b in batches) <= 128
    assert [b.offset for b in batches] == list(range(0, 1000, 128))
    joined = read_points(path)
    np.testing.assert_array_equal(joined.lon, lon)
    assert joined.attrs.column("i").to_pylist() == list(range(1000))


def test_bytes_source_and_sniffing():
    data = b"lat,lon\n1,2\n"
    pts = read_points(io.BytesIO(data))
    assert (pts.lon[0], pts.lat[0]) == (2.0, 1.0)
    assert sniff_format(b"PAR1xxxx") == "parquet"
    assert sniff_format(b'{"type": "FeatureCollection", "features": []}') == "geojson"
    assert sniff_format(b'{"type": "Feature", "geometry": null}\n{"type": "Feature"}') == "ndjson"
    assert sniff_format(b"a,b\n1,2") == "csv"


def test_column_names_any_case_and_tabs(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("City\tLNG\tLAT\nx\t1.5\t2.5\n")
    pts = read_points(path)
    assert (pts.lon[0], pts.lat[0]) == (1.5, 2.5)
    assert pts.attrs.column_names == ["City"]


def test_numeric_strings_with_spaces():
    arr = numeric_column(pa.array([" 1.5", "2 ", None]), "lon", 0)
    assert arr[0] == 1.5 and arr[1] == 2.0 and np.isnan(arr[2])


def test_validate_messages_name_count_and_first_row():
    with pytest.raises(InputError, match=r"2 point\(s\).*row 12"):
        validate_lonlat(np.array([0.0, 0.0, 0.0]), np.array([0.0, 91.0, -95.0]), offset=10, wrap_lon=False)
    wrapped = validate_lonlat(np.array([181.0, -181.0, 180.0]), np.zeros(3), 0, wrap_lon=True)
    np.testing.assert_allclose(wrapped, [-179.0, 179.0, 180.0])


def test_csv_crs_reprojection(tmp_path):
    path = tmp_path / "utm.csv"
    # a point in UTM zone 32N (EPSG:32632): 500000 E on the central meridian, 9°E
    path.write_text("x,y\n500000,5000000\n")
    pts = read_points(path, crs="EPSG:32632")
    assert abs(pts.lon[0] - 9.0) < 1e-9 and 45.0 < pts.lat[0] < 45.2


def test_coord_options_object(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a,b,c\n1,2,3\n")
    pts = read_points(path, opts=CoordOptions(lon_col="c", lat_col="b"))
    assert (pts.lon[0], pts.lat[0]) == (3.0, 2.0)
    assert pts.attrs.column_names == ["a"]
