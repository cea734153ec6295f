"""write_geotiff: georeferencing, tiling, compression, nodata, band names, atomic refusal."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from geoenc.errors import OutputError, UsageError
from geoenc.io.geotiff import write_geotiff


def test_roundtrip_profile_and_values(tmp_path):
    a = np.arange(300 * 600, dtype=np.float64).reshape(300, 600)
    b = np.full((300, 600), np.nan)
    b[10, 20] = 1.5
    path = write_geotiff(tmp_path / "x.tif", [a, b], ["first", "second"], bounds=(-180, -90, 180, 90), overviews=True)
    with rasterio.open(path) as ds:
        assert ds.count == 2 and ds.crs.to_epsg() == 4326 and ds.dtypes == ("float32", "float32")
        assert ds.descriptions == ("first", "second")
        assert ds.block_shapes[0] == (256, 256) and ds.profile["tiled"]
        assert ds.compression.value.lower() == "deflate" and np.isnan(ds.nodata)
        assert ds.bounds == pytest.approx((-180, -90, 180, 90))
        assert ds.overviews(1) == [2]
        np.testing.assert_allclose(ds.read(1), a.astype(np.float32))
        # the cell holding (lon, lat) is where index() says
        r, c = ds.index(-180 + 20.5 * 0.6, 90 - 10.5 * 0.6)
        assert (r, c) == (10, 20) and ds.read(2)[r, c] == 1.5


def test_transform_zstd_integer(tmp_path):
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    path = write_geotiff(
        tmp_path / "i.tif", [a], ["v"], transform=Affine(0.5, 0, 10, 0, -0.5, 50), nodata=-1, compress="zstd"
    )
    with rasterio.open(path) as ds:
        assert ds.dtypes == ("int16",) and ds.nodata == -1 and ds.compression.value.lower() == "zstd"
        assert ds.transform == Affine(0.5, 0, 10, 0, -0.5, 50)
        np.testing.assert_array_equal(ds.read(1), a)


def test_refusals_leave_no_file(tmp_path):
    dest = tmp_path / "e.tif"
    dest.write_text("keep")
    with pytest.raises(OutputError, match="--overwrite"):
        write_geotiff(dest, [np.zeros((2, 2))], ["a"], bounds=(0, 0, 1, 1))
    assert dest.read_text() == "keep"
    write_geotiff(dest, [np.zeros((2, 2))], ["a"], bounds=(0, 0, 1, 1), overwrite=True)
    with pytest.raises(UsageError):
        write_geotiff(tmp_path / "n.tif", [np.zeros((2, 2))], ["a", "b"], bounds=(0, 0, 1, 1))
    with pytest.raises(UsageError):
        write_geotiff(tmp_path / "n.tif", [np.zeros((2, 2))], ["a"])
    with pytest.raises(UsageError):
        write_geotiff(tmp_path / "n.tif", [np.zeros((2, 2), dtype=np.int32)], ["a"], bounds=(0, 0, 1, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.tif"]
