"""write_geotiff / CogWriter: COG layout, georeferencing, tiling, compression, nodata, band names, atomicity."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from geoenc.errors import OutputError, UsageError
from geoenc.io.geotiff import CogWriter, write_geotiff
from tests.io.conformance import assert_cog


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
        assert ds.overviews(1) == [2, 4]  # down to one 256-pixel tile
        np.testing.assert_allclose(ds.read(1), a.astype(np.float32))
        # the cell holding (lon, lat) is where index() says
        r, c = ds.index(-180 + 20.5 * 0.6, 90 - 10.5 * 0.6)
        assert (r, c) == (10, 20) and ds.read(2)[r, c] == 1.5
    assert_cog(path)


def test_transform_zstd_integer(tmp_path):
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    path = write_geotiff(
        tmp_path / "i.tif", [a], ["v"], transform=Affine(0.5, 0, 10, 0, -0.5, 50), nodata=-1, compress="zstd"
    )
    with rasterio.open(path) as ds:
        assert ds.dtypes == ("int16",) and ds.nodata == -1 and ds.compression.value.lower() == "zstd"
        assert ds.transform == Affine(0.5, 0, 10, 0, -0.5, 50)
        np.testing.assert_array_equal(ds.read(1), a)
    assert_cog(path)


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


def test_units_tags_and_no_overviews(tmp_path):
    a = np.random.default_rng(0).random((600, 700)).astype(np.float32)
    path = write_geotiff(
        tmp_path / "u.tif", [a], ["p"], bounds=(0, 0, 7, 6), units=["1"], tags={"k": "v"}, overviews=False
    )
    with rasterio.open(path) as ds:
        assert ds.units == ("1",) and ds.tags()["k"] == "v" and ds.overviews(1) == []
        assert ds.scales == (1.0,) and ds.offsets == (0.0,)
    from rio_cogeo.cogeo import cog_validate

    valid, errors, warnings = cog_validate(str(path), quiet=True)
    assert valid and not errors and "overviews" in " ".join(warnings)  # allowed, but tools say they want them


def test_streamed_blocks_colour_table_and_class_tags(tmp_path):
    """CogWriter fed in row blocks: integer classes keep their colour table, tags and nearest overviews."""
    from rasterio.windows import Window

    rng = np.random.default_rng(1)
    classes = rng.integers(0, 3, (700, 900)).astype(np.uint16)
    cmap = {0: (255, 0, 0, 255), 1: (0, 255, 0, 255), 2: (0, 0, 255, 255)}
    with CogWriter(
        tmp_path / "c.tif",
        width=900,
        height=700,
        names=["argmax class index"],
        dtype="uint16",
        transform=Affine(0.1, 0, -45, 0, -0.1, 35),
        nodata=65535,
        tags={"classes": '["a", "b", "c"]'},
        colormap=cmap,
    ) as cog:
        for row0 in range(0, 700, 256):
            block = classes[row0 : row0 + 256]
            cog.write(block[None], window=Window(0, row0, 900, block.shape[0]))
    path = tmp_path / "c.tif"
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(ds.read(1), classes)
        assert [ds.colormap(1)[i] for i in range(3)] == [cmap[i] for i in range(3)]
        assert ds.tags()["classes"] == '["a", "b", "c"]' and ds.nodata == 65535
        assert ds.descriptions == ("argmax class index",) and ds.overviews(1) == [2, 4]
        assert set(np.unique(ds.read(1, out_shape=(175, 225)))) <= {0, 1, 2}  # nearest: no mixed classes
    assert_cog(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.tif"]


def test_failure_while_filling_leaves_nothing(tmp_path):
    with (
        pytest.raises(RuntimeError),
        CogWriter(
            tmp_path / "x.tif", width=10, height=10, names=["a"], dtype="float32", transform=Affine(1, 0, 0, 0, -1, 10)
        ) as cog,
    ):
        cog.write(np.zeros((1, 10, 10), np.float32))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
