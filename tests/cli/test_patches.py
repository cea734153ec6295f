"""`geoenc patches` as a user runs it: chips in GeoParquet with their georeferencing, and bad inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rasterio.transform import from_origin

from geoenc.imagery.patches import read_patches
from geoenc.io import write_points
from tests.imagery.rasters import global_raster, indexed, write_raster


@pytest.fixture
def grid(tmp_path) -> Path:
    """20 × 10 pixels of 1° (lon 0…20, lat 0…10), 2 bands; pixel (b, r, c) = b*100000 + r*1000 + c."""
    return write_raster(tmp_path / "grid.tif", indexed(10, 20, 2), "EPSG:4326", from_origin(0, 10, 1, 1))


@pytest.fixture
def pts(tmp_path) -> Path:
    path = tmp_path / "pts.parquet"
    write_points(path, np.array([5.5, 0.5, 12.2]), np.array([6.5, 9.5, 1.7]), pa.table({"name": ["a", "b", "c"]}))
    return path


def test_patches_writes_chips_with_georeferencing(cli, grid, pts, tmp_path):
    out = tmp_path / "chips.parquet"
    res = cli("patches", grid, pts, "--size", "5", "-o", out)
    assert res.exit_code == 0, res.output
    assert "wrote 3 chips of 2×5×5" in res.stderr and res.stdout == ""
    table = pq.read_table(out)
    assert table.column("name").to_pylist() == ["a", "b", "c"]
    assert table.schema.field("chip").type == pa.list_(pa.float32(), 2 * 5 * 5)
    meta = json.loads(table.schema.metadata[b"geoenc"])
    assert meta["chip_shape"] == [2, 5, 5] and meta["band_names"] == ["band_1", "band_2"]
    assert meta["raster_crs"] == "EPSG:4326" and meta["raster_transform"] == [1, 0, 0, 0, -1, 10]
    assert json.loads(table.schema.metadata[b"geo"])["version"] == "1.1.0"
    chips, _ = read_patches(out)
    assert chips.shape == (3, 2, 5, 5)
    assert chips[0, 0, 2, 2] == 3005 and chips[0, 1, 2, 2] == 103005  # pixel (3, 5) at the centre
    assert chips[2, 0, 2, 2] == 8012
    assert table.column("chip_row0").to_pylist() == [1, -2, 6]
    assert table.column("chip_col0").to_pylist() == [3, -2, 10]
    # the second chip sits in the corner; the third chip's last row lies below the raster
    np.testing.assert_allclose(table.column("valid_fraction").to_numpy(), [1, 9 / 25, 20 / 25])
    assert np.isnan(chips[1, :, :2]).all()


def test_bands_option_and_csv_from_stdin(cli, grid, tmp_path):
    out = tmp_path / "chips.parquet"
    res = cli("patches", grid, "-", "--bands", "2", "--size", "3", "-o", out, input="lon,lat\n5.5,6.5\n")
    assert res.exit_code == 0, res.output
    chips, meta = read_patches(out)
    assert meta["bands"] == [2] and chips.shape == (1, 1, 3, 3) and chips[0, 0, 1, 1] == 103005


def test_parquet_to_stdout(cli, grid, pts):
    import io

    res = cli("patches", grid, pts, "--size", "3", "-o", "-")
    assert res.exit_code == 0, res.output
    table = pq.read_table(io.BytesIO(res.stdout_bytes))
    assert table.num_rows == 3 and table.schema.field("chip").type.list_size == 18


def test_antimeridian_through_the_cli(cli, tmp_path):
    globe = global_raster(tmp_path / "globe.tif")
    src = tmp_path / "p.csv"
    src.write_text("lon,lat\n179.0,5.0\n")
    out = tmp_path / "c.parquet"
    assert cli("patches", globe, src, "--size", "4", "-o", out).exit_code == 0
    chips, meta = read_patches(out)
    assert meta["wraps_antimeridian"] is True
    assert list(chips[0, 0, 2]) == [8033, 8034, 8035, 8000]


def test_skip_outside_drops_and_says_so(cli, grid, tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("id,lon,lat\n1,5.5,6.5\n2,50,5\n3,1.5,1.5\n")
    out = tmp_path / "c.parquet"
    res = cli("patches", grid, src, "--size", "3", "--skip-outside", "-o", out)
    assert res.exit_code == 0, res.output
    assert "1 outside the raster dropped" in res.stderr
    assert pq.read_table(out).column("id").to_pylist() == [1, 3]


def _bad(tmp_path, grid, case):
    nocrs = write_raster(tmp_path / "nocrs.tif", indexed(10, 10), None)
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster")
    outside = tmp_path / "outside.csv"
    outside.write_text("lon,lat\n5.5,6.5\n-30,5\n40,5\n")
    ok = tmp_path / "ok.csv"
    ok.write_text("lon,lat\n5.5,6.5\n")
    exists = tmp_path / "exists.parquet"
    exists.write_bytes(b"x")
    return {
        "no crs": ([nocrs, ok], 1, "has no CRS"),
        "points outside": (
            [grid, outside, "--size", "3"],
            1,
            r"2 of 3 points lie outside raster .*\(first: row 2, lon -30, lat 5\)",
        ),
        "size larger than raster": ([grid, ok, "--size", "11"], 2, "--size 11 is larger than raster"),
        "unreadable raster": ([junk, ok], 1, "cannot read raster"),
        "missing raster": ([tmp_path / "nope.tif", ok], 1, "does not exist"),
        "bands not numbers": ([grid, ok, "--bands", "r,g"], 2, "--bands takes"),
        "band zero": ([grid, ok, "--bands", "0"], 2, "--bands takes"),
        "band beyond count": ([grid, ok, "--bands", "1,3"], 2, "--bands 3 does not exist"),
        "size zero": ([grid, ok, "--size", "0"], 2, "--size"),
        "missing points": ([grid, tmp_path / "nope.csv", "--size", "3"], 1, "nope.csv"),
        "csv output": ([grid, ok, "-o", tmp_path / "out.csv"], 2, "GeoParquet"),
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "no crs",
        "points outside",
        "size larger than raster",
        "unreadable raster",
        "missing raster",
        "bands not numbers",
        "band zero",
        "band beyond count",
        "size zero",
        "missing points",
        "csv output",
    ],
)
def test_bad_inputs_one_line_exit_code_no_output(cli, grid, tmp_path, case):
    args, code, match = _bad(tmp_path, grid, case)
    before = {p.name for p in tmp_path.iterdir()}
    if "-o" not in args:
        args = [*args, "-o", tmp_path / "out.parquet"]
    res = cli("patches", *args)
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoenc: error:"), res.stderr
    assert re.search(match, lines[0]), lines[0]
    assert {p.name for p in tmp_path.iterdir()} == before  # no output, no temporary file left


def test_existing_output_needs_overwrite(cli, grid, pts, tmp_path):
    out = tmp_path / "c.parquet"
    out.write_bytes(b"old")
    res = cli("patches", grid, pts, "--size", "3", "-o", out)
    assert res.exit_code == 1 and "--overwrite" in res.stderr and out.read_bytes() == b"old"
    assert cli("patches", grid, pts, "--size", "3", "-o", out, "--overwrite").exit_code == 0
