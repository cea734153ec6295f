"""`geoenc map` and its library: georeferencing of prediction maps, band choice, bad requests."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import torch

from geoenc.errors import UsageError
from geoenc.maps.streaming import make_grid, parse_bbox
from geoenc.models import load_model
from geoenc.workflows.map import map_encoder, map_model


def _cell_centre(ds, row: int, col: int) -> tuple[float, float]:
    x, y = ds.xy(row, col)  # rasterio gives the centre of the cell
    return x, y


@pytest.mark.parametrize("kind", ["probability", "regression"])
def test_raster_holds_the_models_prediction_at_its_cells(tmp_path, class_model, reg_model, kind):
    model_dir = class_model if kind == "probability" else reg_model
    tif = tmp_path / "map.tif"
    kwargs = {"classes": ["east", "west"]} if kind == "probability" else {}
    res = map_model(model_dir, tif, bbox="-170,-60,170,70", cell_deg=5, device="cpu", **kwargs)
    model = load_model(model_dir)
    with rasterio.open(tif) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.bounds.left == -170 and ds.bounds.top == 70
        assert (ds.width, ds.height) == (68, 26) == (res.width, res.height)
        data = ds.read()
        rng = np.random.default_rng(3)
        for row, col in zip(rng.integers(0, ds.height, 15), rng.integers(0, ds.width, 15), strict=False):
            lon, lat = _cell_centre(ds, int(row), int(col))
            # any point inside the cell is indexed back to it
            assert ds.index(lon + 2.4, lat - 2.4) == (row, col)
            pred = model.predict(torch.tensor([[lon, lat]], dtype=torch.float64)).numpy()
            if kind == "probability":
                expected = pred[0, [model.classes.index("east"), model.classes.index("west")]]
                assert list(ds.descriptions) == ["east", "west"]
            else:
                expected = pred[:1]
            np.testing.assert_allclose(data[:, row, col], expected, rtol=1e-5, atol=1e-6)


def test_argmax_map_has_colour_table_and_class_names(tmp_path, class_model):
    tif, png = tmp_path / "a.tif", tmp_path / "a.png"
    map_model(class_model, tif, cell_deg=10, png=png, device="cpu")
    with rasterio.open(tif) as ds:
        assert ds.dtypes[0] == "uint16" and ds.nodata == 65535
        classes = json.loads(ds.tags()["classes"])
        assert sorted(classes) == ["east", "mid", "west"]
        assert ds.colormap(1)[0][3] == 255
        band = ds.read(1)
        # the centre column (lon ≈ 5°) is "mid"; the far west is "west" for most latitudes
        assert classes[np.bincount(band[:, 18]).argmax()] == "mid"
        assert classes[np.bincount(band[:, 1]).argmax()] == "west"
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_top_k_picks_classes_by_mean_probability(tmp_path, class_model):
    res = map_model(class_model, tmp_path / "t.tif", top_k=2, cell_deg=10, device="cpu")
    assert len(res.bands) == 2 and set(res.bands) <= {"east", "mid", "west"}


def test_encoder_dimension_map(tmp_path):
    tif = tmp_path / "d.tif"
    map_encoder("xyz", {}, 2, tif, cell_deg=10, device="cpu")
    with rasterio.open(tif) as ds:
        z = ds.read(1)
        _lon, lat = ds.xy(3, 0)
        assert abs(z[3, 0] - np.sin(np.radians(lat))) < 1e-6


def test_bbox_and_size_checks():
    assert parse_bbox(None) == (-180.0, -90.0, 180.0, 90.0)
    for bad in ("10,0,5,20", "0,10,5,5", "0,0,200,10", "a,b,c,d", "1,2,3"):
        with pytest.raises(UsageError):
            parse_bbox(bad)
    with pytest.raises(UsageError, match="cells"):
        make_grid(None, 0.0001, 1)
    with pytest.raises(UsageError):
        make_grid(None, 0, 1)
    g = make_grid(None, 0.05, 1)
    assert (g.width, g.height) == (7200, 3600)
