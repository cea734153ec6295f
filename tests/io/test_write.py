"""Writer: GeoParquet 1.1 layout, WKB, bbox covering, atomic writes."""

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
from tests.io.conformance import assert_geoparquet, geo_problems


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
    assert schema.names == ["k", "lon", "lat", "embedding", "geometry", "bbox"]
    assert schema.field("bbox").type == pa.struct([(f, pa.float64()) for f in ("xmin", "ymin", "xmax", "ymax")])
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


def test_bbox_covering_streamed_over_batches(tmp_path):
    """The file-level bbox spans every batch; each batch is a row group with statistics on the covering."""
    path = tmp_path / "o.parquet"
    rng = np.random.default_rng(0)
    with PointWriter(path) as w:
        for west in (-170.0, -20.0, 100.0):  # three batches in three longitude bands
            lon, lat = rng.uniform(west, west + 50, 200), rng.uniform(-60, 70, 200)
            w.write(lon, lat, pa.table({"i": np.arange(200)}))
    pf = pq.ParquetFile(path)
    assert pf.metadata.num_row_groups == 3
    lon = pq.read_table(path, columns=["lon"]).column("lon").to_numpy()
    lat = pq.read_table(path, columns=["lat"]).column("lat").to_numpy()
    geo = json.loads(pf.metadata.metadata[b"geo"])
    assert geo["columns"]["geometry"]["bbox"] == [lon.min(), lat.min(), lon.max(), lat.max()]
    assert lon.min() < -120 and lon.max() > 100
    leaf = [pf.metadata.schema.column(i).path for i in range(pf.metadata.num_columns)].index("bbox.xmin")
    for rg, west in enumerate((-170.0, -20.0, 100.0)):
        stats = pf.metadata.row_group(rg).column(leaf).statistics
        assert west <= stats.min <= stats.max <= west + 50
    assert_geoparquet(path)


def test_bbox_metadata_on_stdout(monkeypatch):
    """Parquet to stdout gets the same final metadata (the footer is written at close either way)."""
    import io
    import sys

    buf = io.BytesIO()

    class Out:
        buffer = buf

        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stdout", Out())
    write_points("-", np.array([1.0, 3.0]), np.array([2.0, -4.0]))
    geo = json.loads(pq.read_schema(io.BytesIO(buf.getvalue())).metadata[b"geo"])
    assert geo["columns"]["geometry"]["bbox"] == [1.0, -4.0, 3.0, 2.0]
    assert geo_problems(geo) == []


def test_csv_has_no_bbox_or_geometry(tmp_path):
    path = tmp_path / "o.csv"
    write_points(path, np.array([1.0]), np.array([2.0]), pa.table({"k": ["v"]}))
    assert path.read_text().splitlines()[0].replace('"', "") == "k,lon,lat"


def test_schema_check_catches_bad_metadata():
    """The vendored schema (with PROJJSON resolved locally) does reject broken metadata: the check can fail."""
    from geoenc.io.write import geo_metadata

    good = geo_metadata([0.0, 1.0, 2.0, 3.0], "bbox")
    assert geo_problems(good) == []
    for broken in (
        {**good, "version": "1.0"},
        {**good, "columns": {"geometry": {**good["columns"]["geometry"], "crs": {"type": "NotACRS"}}}},
        {**good, "columns": {"geometry": {**good["columns"]["geometry"], "bbox": [0, 1, 2]}}},
        {**good, "columns": {"geometry": {**good["columns"]["geometry"], "covering": {"bbox": {"xmin": ["b"]}}}}},
    ):
        assert geo_problems(broken), broken
