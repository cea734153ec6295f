"""Writer: GeoParquet 1.1 layout, WKB, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from geoenc.errors import OutputError
from geoenc.io import PointWriter, write_points
from geoenc.io.write import wkb_points


def test_wkb_points_match_shapely():
    lon = np.array([1.25, -179.5, 0.0])
    lat = np.array([-2.5, 89.0, 0.0])
    ours = wkb_points(lon, lat).to_pylist()
    theirs = [shapely.to_wkb(shapely.Point(x, y), byte_order=1) for x, y in zip(lon, lat, strict=False)]
    assert ours == theirs


def test_geoparquet_metadata_and_types(tmp_path):
    path = tmp_path / "o.parquet"
    write_points(
        path,
        np.array([1.0]),
        np.array([2.0]),
        pa.table({"k": ["v"]}),
        {"embedding": np.ones((1, 4), np.float32)},
        metadata={"method": "m"},
    )
    schema = pq.read_schema(path)
    assert schema.names == ["k", "lon", "lat", "embedding", "geometry"]
    geo = json.loads(schema.metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    assert geo["columns"]["geometry"]["geometry_types"] == ["Point"]
    assert geo["columns"]["geometry"]["crs"]["id"] == {"authority": "OGC", "code": "CRS84"}
    assert json.loads(schema.metadata[b"geoenc"]) == {"method": "m"}
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_existing_columns_are_replaced_not_duplicated(tmp_path):
    path = tmp_path / "o.parquet"
    attrs = pa.table({"embedding": [[9.0]], "x": [1]})
    write_points(path, np.array([1.0]), np.array([2.0]), attrs, {"embedding": np.zeros((1, 2), np.float32)})
    table = pq.read_table(path)
    assert table.column_names.count("embedding") == 1
    assert table.column("embedding").type.list_size == 2


def test_writer_discards_on_error(tmp_path):
    path = tmp_path / "o.parquet"
    with pytest.raises(RuntimeError), PointWriter(path) as w:
        w.write(np.array([1.0]), np.array([2.0]))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_refuses_existing_without_overwrite(tmp_path):
    path = tmp_path / "o.parquet"
    path.write_text("keep")
    with pytest.raises(OutputError, match="--overwrite"):
        write_points(path, np.array([1.0]), np.array([2.0]))
    assert path.read_text() == "keep"


def test_csv_output_turns_list_columns_into_json(tmp_path):
    path = tmp_path / "o.csv"
    write_points(
        path,
        np.array([1.0]),
        np.array([2.0]),
        pa.table({"feats": [[1.5, 2.0]], "k": ["v"]}),
        {"embedding": np.ones((1, 2), np.float32)},
    )
    header, row = path.read_text().splitlines()
    assert header == '"feats","k","lon","lat","emb_0","emb_1"'
    assert row.startswith('"[1.5, 2.0]","v",1,2,1,1')
