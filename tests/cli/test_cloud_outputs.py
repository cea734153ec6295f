"""Every GeoTIFF and GeoParquet the CLI writes is what cloud tools accept.

GeoTIFFs (map: probability, argmax, regression, encoder dimension, autoencoder anomaly; geobias --raster)
must pass ``rio cogeo validate`` with no error and no warning; GeoParquet files (encode, encode with an
autoencoder, predict, geobias report, patches) must carry ``geo`` metadata that validates against the
GeoParquet 1.1.0 JSON schema and answer a ``geopandas.read_parquet(bbox=…)`` read exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import rasterio
from rasterio.transform import from_origin
from typer.testing import CliRunner

from geoenc.cli.main import app
from geoenc.io import write_points
from tests.conftest import SAMPLE
from tests.imagery.rasters import indexed, toy_image, write_raster
from tests.io.conformance import assert_cog, assert_geoparquet

RASTERS = ["probability", "argmax", "regression", "encoder", "anomaly", "geobias"]
PARQUETS = ["encode", "encode_autoencoder", "predict", "geobias_report", "patches"]


def _run(*args) -> None:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, (args, res.output)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, class_model, reg_model) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cloud")
    out = {name: d / f"{name}.tif" for name in RASTERS} | {name: d / f"{name}.parquet" for name in PARQUETS}
    cities = SAMPLE / "cities_sample.geojson"
    # maps on a 1° global grid (360 × 180: wider than a tile, so with overviews)
    _run("map", class_model, "--class", "east", "--cell-deg", "1", "-o", out["probability"], "--device", "cpu")
    _run("map", class_model, "--argmax", "--cell-deg", "1", "-o", out["argmax"], "--device", "cpu")
    _run("map", reg_model, "--cell-deg", "1", "-o", out["regression"], "--device", "cpu")
    _run("map", "--method", "xyz", "--dim", "1", "--cell-deg", "1", "-o", out["encoder"], "--device", "cpu")
    # an image autoencoder on a small raster: its anomaly map, and embeddings of points on it
    toy = write_raster(d / "toy.tif", toy_image(), "EPSG:4326", from_origin(10, 46, 0.01, 0.01))
    ae = d / "ae"
    small = ["--size", "8", "--latent", "4", "--width", "4", "--samples", "64", "--epochs", "1", "--device", "cpu"]
    _run("autoencode", toy, "-o", ae, *small)
    _run("map", ae, "--raster", toy, "-o", out["anomaly"], "--device", "cpu")
    rng = np.random.default_rng(0)
    on_toy = d / "on_toy.parquet"
    write_points(on_toy, rng.uniform(10.1, 10.9, 40), rng.uniform(45.1, 45.9, 40), pa.table({"i": np.arange(40)}))
    _run("encode", on_toy, "--model", ae, "--raster", toy, "-o", out["encode_autoencoder"], "--device", "cpu")
    # points files: several batches, so several row groups
    _run("encode", cities, "-m", "xyz", "--batch-size", "256", "-o", out["encode"])
    _run("predict", class_model, cities, "-o", out["predict"])
    lon, lat = rng.uniform(0, 15, 300), rng.uniform(40, 55, 300)
    hits = d / "hits.parquet"
    write_points(hits, lon, lat, None, {"hit@1": (rng.random(300) < np.where(lon < 5, 0.2, 0.9)).astype(float)})
    _run("geobias", hits, "-o", out["geobias_report"], "--raster", out["geobias"], "--cell-deg", "0.5", "-q")
    grid = write_raster(d / "grid.tif", indexed(10, 20, 2), "EPSG:4326", from_origin(0, 10, 1, 1))
    pts = d / "pts.parquet"
    write_points(pts, rng.uniform(0.5, 19.5, 30), rng.uniform(0.5, 9.5, 30), pa.table({"i": np.arange(30)}))
    _run("patches", grid, pts, "--size", "3", "-o", out["patches"])
    return out


@pytest.mark.parametrize("name", RASTERS)
def test_every_raster_is_a_valid_cog(outputs, name):
    assert_cog(outputs[name])
    with rasterio.open(outputs[name]) as ds:
        assert ds.nodata is not None and all(ds.descriptions)
        if ds.width > 256:  # overviews down to one tile
            assert ds.overviews(1) and ds.width // ds.overviews(1)[-1] <= 256


def test_cog_keeps_colour_table_classes_and_units(outputs, class_model):
    with rasterio.open(outputs["argmax"]) as ds:
        classes = json.loads(ds.tags()["classes"])
        assert len(classes) == 3 and ds.dtypes == ("uint16",) and ds.nodata == 65535
        assert len({ds.colormap(1)[i] for i in range(3)}) == 3
    with rasterio.open(outputs["probability"]) as ds:
        assert ds.units == ("1",) and ds.descriptions == ("east",)
        assert 0 <= ds.read(1, masked=True).min() <= ds.read(1, masked=True).max() <= 1
    with rasterio.open(outputs["geobias"]) as ds:
        assert ds.descriptions == ("gi_z_mean", "bad_rate", "count") and ds.units[1] == "1"


@pytest.mark.parametrize("name", PARQUETS)
def test_every_geoparquet_passes_the_schema_and_a_bbox_read(outputs, name):
    assert_geoparquet(outputs[name])


def test_encode_output_has_row_groups_that_duckdb_can_skip(outputs):
    """DuckDB pushes a filter on the covering columns into the scan and gets the same rows as numpy."""
    duckdb = pytest.importorskip("duckdb")
    import pyarrow.parquet as pq

    path = str(outputs["encode"])
    t = pq.read_table(path, columns=["lon", "lat"])
    lon, lat = t.column("lon").to_numpy(), t.column("lat").to_numpy()
    where = "bbox.xmin >= 0 AND bbox.xmax <= 40 AND bbox.ymin >= 30 AND bbox.ymax <= 60"
    [(count,)] = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}') WHERE {where}").fetchall()
    assert count == int(((lon >= 0) & (lon <= 40) & (lat >= 30) & (lat <= 60)).sum()) > 0
    explain = duckdb.sql(f"EXPLAIN SELECT * FROM read_parquet('{path}') WHERE {where}").fetchall()
    plan = "\n".join(row[1] for row in explain)
    scan = plan[plan.rfind("PARQUET") :]  # the scan node (READ_PARQUET or PARQUET_SCAN, by version)
    assert "Filters" in scan and "xmin" in scan, plan  # the filter sits in the scan, which skips row groups by it
