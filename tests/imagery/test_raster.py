"""Chips from rasters: values and georeferencing at known pixels, edges, nodata, antimeridian, projections."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from rasterio.transform import from_origin

from geoenc.errors import InputError, ParameterError, UsageError
from geoenc.imagery.patches import extract_patches
from geoenc.imagery.raster import ChipReader, parse_bands
from tests.imagery.rasters import global_raster, indexed, write_raster


@pytest.fixture
def grid(tmp_path):
    """20 × 10 pixels of 1°, lon 0…20, lat 0…10, two bands."""
    return write_raster(tmp_path / "grid.tif", indexed(10, 20, 2), "EPSG:4326", from_origin(0, 10, 1, 1))


@pytest.mark.parametrize("size", [4, 5])
def test_point_at_pixel_centre_is_chip_centre(grid, size):
    # pixel (row 3, col 5) has its centre at lon 5.5, lat 10 - 3.5
    p = extract_patches(grid, [5.5], [6.5], size=size)
    h = size // 2
    chip = p.chips[0]
    assert chip.shape == (2, size, size)
    assert chip[0, h, h] == 3005 and chip[1, h, h] == 100_000 + 3005
    assert chip[0, 0, 0] == (3 - h) * 1000 + (5 - h)
    assert (p.row0[0], p.col0[0]) == (3 - h, 5 - h)
    assert p.valid_fraction[0] == 1.0
    # the chip's own transform puts the centre pixel's centre back on the point
    with ChipReader(grid, size) as r:
        a, _b, c, _d, e, f = r.chip_transforms(p.row0, p.col0)[0]
    assert (a * (h + 0.5) + c, e * (h + 0.5) + f) == pytest.approx((5.5, 6.5))


def test_any_point_inside_a_pixel_gets_that_pixel(grid):
    p = extract_patches(grid, [5.01, 5.99, 5.5], [6.01, 6.99, 6.5], size=3)
    assert list(p.chips[:, 0, 1, 1]) == [3005, 3005, 3005]


def test_bands_are_selected_and_ordered(grid):
    p = extract_patches(grid, [5.5], [6.5], size=3, bands="2,1")
    assert p.chips.shape == (1, 2, 3, 3)
    assert p.chips[0, 0, 1, 1] == 100_000 + 3005 and p.chips[0, 1, 1, 1] == 3005


def test_edges_are_padded_with_nan(grid):
    p = extract_patches(grid, [0.5, 19.5], [9.5, 0.5], size=5)
    top_left, bottom_right = p.chips[0, 0], p.chips[1, 0]
    assert np.isnan(top_left[:2]).all() and np.isnan(top_left[:, :2]).all()
    assert top_left[2, 2] == 0 and top_left[4, 4] == 2002
    assert np.isnan(bottom_right[3:]).all() and np.isnan(bottom_right[:, 3:]).all()
    assert bottom_right[2, 2] == 9019
    assert p.valid_fraction == pytest.approx([9 / 25, 9 / 25])


def test_nodata_value_and_nan_become_nan(tmp_path):
    data = indexed(10, 10)
    data[0, 5, 5] = -1
    data[0, 4, 4] = np.nan
    path = write_raster(tmp_path / "nd.tif", data, "EPSG:4326", from_origin(0, 10, 1, 1), nodata=-1)
    p = extract_patches(path, [5.5], [4.5], size=3)  # centre pixel (5, 5)
    assert np.isnan(p.chips[0, 0, 1, 1]) and np.isnan(p.chips[0, 0, 0, 0])
    assert p.chips[0, 0, 2, 2] == 6006
    assert p.valid_fraction[0] == pytest.approx(7 / 9)


def test_integer_raster_with_nodata(tmp_path):
    data = np.full((1, 8, 8), 7, np.uint8)
    data[0, 3, 3] = 255
    path = write_raster(tmp_path / "u8.tif", data, "EPSG:4326", from_origin(0, 8, 1, 1), nodata=255)
    p = extract_patches(path, [3.5], [4.5], size=3)
    assert p.chips.dtype == np.float32
    assert np.isnan(p.chips[0, 0, 1, 1]) and p.chips[0, 0, 0, 0] == 7


def test_antimeridian_wrap_takes_pixels_from_the_other_edge(tmp_path):
    path = global_raster(tmp_path / "globe.tif")  # 36 × 18 pixels of 10°
    p = extract_patches(path, [175.0, -175.0], [5.0, 5.0], size=4)
    # lon 175 is column 35, row 8 (lat 0…10); the chip spans columns 33, 34, 35, 0
    assert list(p.chips[0, 0, 2]) == [8033, 8034, 8035, 8000]
    # lon -175 is column 0; the chip spans columns 34, 35, 0, 1
    assert list(p.chips[1, 0, 2]) == [8034, 8035, 8000, 8001]
    assert p.valid_fraction.tolist() == [1.0, 1.0]


def test_plus_and_minus_180_give_the_same_chip(tmp_path):
    path = global_raster(tmp_path / "globe.tif")
    p = extract_patches(path, [-180.0, 180.0], [0.0, 0.0], size=5)
    np.testing.assert_array_equal(p.chips[0], p.chips[1])


def test_wrap_is_off_for_a_regional_raster(grid):
    # a 20° wide raster does not wrap: columns beyond the east edge are NaN
    p = extract_patches(grid, [19.5], [5.5], size=4)
    assert np.isnan(p.chips[0, 0, :, 3]).all()


def test_polar_rows_are_padded_on_a_global_raster(tmp_path):
    path = global_raster(tmp_path / "globe.tif")
    p = extract_patches(path, [0.0], [89.0], size=4)
    assert np.isnan(p.chips[0, 0, :2]).all() and not np.isnan(p.chips[0, 0, 2:]).any()


def test_projected_crs(tmp_path):
    # UTM zone 33N, 100 m pixels, origin at (400 000, 5 200 000)
    t = from_origin(400_000, 5_200_000, 100, 100)
    path = write_raster(tmp_path / "utm.tif", indexed(50, 60), "EPSG:32633", t)
    x, y = t @ (12 + 0.5, 7 + 0.5)  # centre of pixel (row 7, col 12)
    lon, lat = Transformer.from_crs("EPSG:32633", "OGC:CRS84", always_xy=True).transform(x, y)
    p = extract_patches(path, [lon], [lat], size=5)
    assert p.chips[0, 0, 2, 2] == 7012
    assert p.info["raster_crs"] == "EPSG:32633"


@pytest.mark.parametrize("size", [3, 4])
def test_windowed_reads_match_in_memory_reads(tmp_path, size):
    path = global_raster(tmp_path / "globe.tif", deg=5.0, bands=2)
    rng = np.random.default_rng(1)
    lon = np.concatenate([rng.uniform(-180, 180, 40), [-179.9, 179.9, 0.0]])
    lat = np.concatenate([rng.uniform(-90, 90, 40), [89.9, -89.9, 0.0]])
    with ChipReader(path, size) as mem, ChipReader(path, size, max_memory=0) as win:
        assert mem._data is not None and win._data is None
        a = extract_patches(mem, lon, lat).chips
        b = extract_patches(win, lon, lat).chips
    np.testing.assert_array_equal(a, b)


def test_points_outside_are_named_or_skipped(grid):
    with pytest.raises(InputError, match=r"2 of 3 points lie outside .*first: row 2, lon 30"):
        extract_patches(grid, [5.5, 30.0, 5.5], [5.5, 5.0, -1.0], size=3)
    p = extract_patches(grid, [5.5, 30.0, 5.5], [5.5, 5.0, -1.0], size=3, skip_outside=True)
    assert p.index.tolist() == [0] and p.chips.shape[0] == 1


@pytest.mark.parametrize(
    "make, kwargs, error, match",
    [
        ("nocrs", {}, InputError, "has no CRS"),
        ("grid", {"size": 11}, ParameterError, "larger than raster"),
        ("grid", {"bands": "3"}, ParameterError, "--bands 3 does not exist"),
        ("grid", {"bands": "a,b"}, UsageError, "--bands takes"),
        ("grid", {"bands": "0"}, UsageError, "--bands takes"),
        ("grid", {"bands": "1,1"}, UsageError, "twice"),
        ("text", {}, InputError, "cannot read raster"),
        ("missing", {}, InputError, "does not exist"),
    ],
)
def test_bad_rasters_and_options(tmp_path, grid, make, kwargs, error, match):
    paths = {"grid": grid, "missing": tmp_path / "nope.tif"}
    if make == "nocrs":
        paths[make] = write_raster(tmp_path / "nocrs.tif", indexed(10, 10), None)
    if make == "text":
        paths[make] = tmp_path / "text.tif"
        paths[make].write_text("not a raster")
    with pytest.raises(error, match=match):
        ChipReader(paths[make], **kwargs)


def test_parse_bands():
    assert parse_bands("1, 3") == [1, 3]
    assert parse_bands(None) is None and parse_bands("") is None
