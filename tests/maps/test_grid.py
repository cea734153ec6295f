"""LonLatGrid: cell indices agree with rasterio's index(), aggregates, nodata, edges."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from geoenc.errors import ParameterError
from geoenc.io.geotiff import write_geotiff
from geoenc.maps.grid import LonLatGrid


def test_cells_match_rasterio_index(tmp_path):
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-180, 180, 500), rng.uniform(-90, 90, 500)
    grid = LonLatGrid.global_grid(5.0)
    assert (grid.height, grid.width) == (36, 72)
    val = rng.normal(size=500)
    agg = grid.aggregate(lon, lat, {"v": val})
    path = write_geotiff(tmp_path / "g.tif", [agg["v"], agg["count"]], ["v", "count"], transform=grid.transform)
    row, col = grid.index(lon, lat)
    with rasterio.open(path) as ds:
        v, cnt = ds.read(1), ds.read(2)
        for i in range(0, 500, 25):
            r, c = ds.index(lon[i], lat[i])
            assert (r, c) == (row[i], col[i])
            same = (row == r) & (col == c)
            assert v[r, c] == pytest.approx(val[same].mean(), rel=1e-6)
            assert cnt[r, c] == same.sum()
        assert np.nansum(cnt) == 500 and np.isnan(v[np.isnan(cnt)]).all()


def test_edges_and_bad_cell_size():
    grid = LonLatGrid.global_grid(1.0)
    r, c = grid.index(np.array([180.0, -180.0]), np.array([-90.0, 90.0]))
    assert r.tolist() == [179, 0] and c.tolist() == [359, 0]
    assert LonLatGrid.global_grid(7.0).bounds == (-180.0, 90.0 - 26 * 7.0, -180.0 + 52 * 7.0, 90.0)
    with pytest.raises(ParameterError):
        LonLatGrid.global_grid(0)
