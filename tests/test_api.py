"""The notebook API (geoenc.encode/train/load_model/geobias) on GeoDataFrames, DataFrames and arrays.

Each function is checked against its command on the same data written to a file: one code path, the same
numbers.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoenc
from geoenc.errors import InputError, OutputError, ParameterError, UsageError
from geoenc.io import Points
from geoenc.io.frames import as_points

FAST = {"method": "xyz", "net": "ffn", "net_params": {"hidden": 32, "out": 16}, "batch_size": 64, "device": "cpu"}


def _frame(n: int, seed: int, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    region = np.where(lon < -60, "west", np.where(lon < 60, "mid", "east"))
    df = pd.DataFrame({"name": [f"p{i}" for i in range(n)], "region": region, "value": (lat + 90) / 10})
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return gdf.to_crs(crs) if crs != "EPSG:4326" else gdf


def _lonlat(gdf: gpd.GeoDataFrame) -> np.ndarray:
    g = gdf.to_crs("EPSG:4326").geometry
    return np.column_stack((g.x, g.y))


@pytest.fixture(scope="module")
def data():
    return _frame(500, 0), _frame(300, 1)


@pytest.fixture(scope="module")
def model(data):
    return geoenc.train(data[0], label="region", epochs=15, lr=3e-3, val_fraction=0.1, **FAST)


# -- inputs -----------------------------------------------------------------------------------------------
def test_geodataframe_in_another_crs_is_reprojected(data):
    gdf = data[0].head(40)
    web = gdf.to_crs("EPSG:3857")
    pts = as_points(web)
    np.testing.assert_allclose(pts.lonlat(), _lonlat(gdf), atol=1e-9)
    out = geoenc.encode(web, "sphereM")
    ref = geoenc.encode(_lonlat(gdf), "sphereM")
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == web.crs
    np.testing.assert_allclose(np.stack(out["embedding"].to_numpy()), ref, atol=1e-5)
    assert "embedding" not in web.columns  # a copy: the user's frame is left alone


def test_every_input_kind_gives_the_same_embedding(data):
    gdf = data[0].head(25)
    ll = _lonlat(gdf)
    ref = geoenc.encode(ll, "sphereC", frequency_num=8)
    assert isinstance(ref, np.ndarray) and ref.shape == (25, 8 * 3)
    df = pd.DataFrame({"Longitude": ll[:, 0], "Latitude": ll[:, 1], "name": gdf["name"].to_numpy()})
    custom = pd.DataFrame({"x_deg": ll[:, 0], "y_deg": ll[:, 1]})
    web = gdf.to_crs("EPSG:3857").geometry
    projected = pd.DataFrame({"E": web.x.to_numpy(), "N": web.y.to_numpy()})
    outs = {
        "GeoSeries": geoenc.encode(gdf.geometry, "sphereC", frequency_num=8),
        "list": geoenc.encode(ll.tolist(), "sphereC", frequency_num=8),
        "Points": geoenc.encode(Points(ll[:, 0], ll[:, 1], as_points(gdf).attrs), "sphereC", frequency_num=8),
        "DataFrame": np.stack(geoenc.encode(df, "sphereC", frequency_num=8)["embedding"]),
        "lon=/lat=": np.stack(geoenc.encode(custom, "sphereC", lon="x_deg", lat="y_deg", frequency_num=8).embedding),
        "crs=": np.stack(geoenc.encode(projected, "sphereC", lon="E", lat="N", crs=3857, frequency_num=8).embedding),
    }
    for kind, out in outs.items():
        np.testing.assert_allclose(out, ref, atol=1e-5, err_msg=kind)


def test_frame_output_keeps_index_and_columns_and_layouts(data):
    gdf = data[0].head(6).set_index("name")
    out = geoenc.encode(gdf, "xyz")
    assert list(out.index) == list(gdf.index) and list(out.columns) == [*gdf.columns, "embedding"]
    assert out["embedding"].iloc[0].dtype == np.float32 and out["embedding"].iloc[0].shape == (3,)
    wide = geoenc.encode(gdf, "xyz", layout="columns")
    assert [c for c in wide.columns if c.startswith("emb_")] == ["emb_0", "emb_1", "emb_2"]
    np.testing.assert_allclose(wide[["emb_0", "emb_1", "emb_2"]].to_numpy(), np.stack(out["embedding"]))
    named = geoenc.encode(pd.DataFrame(_lonlat(gdf), columns=["lon", "lat"]), "xyz", column="v", layout="columns")
    assert list(named.columns) == ["lon", "lat", "v_0", "v_1", "v_2"]
    with pytest.raises(UsageError, match="layout"):
        geoenc.encode(gdf, "xyz", layout="wide")


def _polygons() -> gpd.GeoDataFrame:
    boxes = [shapely.box(0, 0, 2, 2), shapely.box(10, 10, 11, 12)]
    return gpd.GeoDataFrame({"id": [1, 2]}, geometry=boxes, crs="EPSG:4326")


BAD_INPUTS = {
    "non-point geometries": (_polygons, {}, "centroid=True"),
    "missing CRS": (lambda: gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0], [2.0])), {}, r"set_crs\('EPSG:4326'\)"),
    "NaN coordinates": (lambda: np.array([[1.0, 2.0], [np.nan, 3.0]]), {}, "first at row 2"),
    "latitude out of range": (lambda: np.array([[1.0, 95.0]]), {}, "crs="),
    "longitude out of range": (lambda: np.array([[190.0, 5.0]]), {}, "wrap_lon=True"),
    "three columns": (lambda: np.zeros((4, 3)), {}, r"\(N, 2\) array .* shape \(4, 3\)"),
    "one point flat": (lambda: np.array([1.0, 2.0]), {}, r"\[\[lon, lat\]\]"),
    "rows for columns": (lambda: np.zeros((2, 5)), {}, r"array\.T"),
    "text": (lambda: [["a", "b"]], {}, "cannot read a list as lon/lat numbers"),
    "no coordinate columns": (lambda: pd.DataFrame({"a": [1.0], "b": [2.0]}), {}, "lon=/lat="),
    "missing column": (lambda: pd.DataFrame({"a": [1.0], "b": [2.0]}), {"lon": "a", "lat": "c"}, "'c' is not in"),
    "text coordinates": (lambda: pd.DataFrame({"lon": ["1", "east"], "lat": [1.0, 2.0]}), {}, "non-numeric"),
    "empty": (lambda: np.zeros((0, 2)), {}, "holds no points"),
    "empty geometry": (lambda: gpd.GeoSeries([shapely.Point(1, 2), None], crs=4326), {}, "missing or empty"),
    "a Series": (lambda: pd.Series([1.0, 2.0]), {}, "pandas Series"),
    "mixed column": (
        lambda: pd.DataFrame({"lon": [1.0, 2.0], "lat": [1.0, 2.0], "mixed": [1, "a"]}),
        {},
        "column 'mixed' cannot be read",
    ),
    "unknown CRS": (lambda: np.zeros((1, 2)), {"crs": "EPSG:999999"}, "unknown CRS"),
    "lon without lat": (lambda: pd.DataFrame({"a": [1.0]}), {"lon": "a"}, "both lon= and lat="),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_inputs_get_one_line_errors(case):
    make, kwargs, message = BAD_INPUTS[case]
    with pytest.raises((InputError, UsageError), match=message) as err:
        geoenc.encode(make(), "xyz", **kwargs)
    assert "\n" not in str(err.value)


def test_non_points_with_centroid_and_a_crs_override():
    polys = _polygons()
    pts = as_points(polys, centroid=True)
    assert shapely.contains(np.asarray(polys.geometry.array), shapely.points(pts.lon, pts.lat)).all()
    with pytest.raises(InputError, match=r"or convert them first with \.representative_point\(\)"):
        as_points(polys)
    no_crs = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]))
    np.testing.assert_allclose(as_points(no_crs, crs="EPSG:3857").lonlat(), [[0.0, 0.0]], atol=1e-12)
    wrapped = as_points(np.array([[190.0, 5.0]]), wrap_lon=True)
    assert wrapped.lon[0] == pytest.approx(-170.0)


# -- train, predict, evaluate, save -----------------------------------------------------------------------
def test_train_predict_gives_class_names(model, data):
    test = data[1]
    assert model.classes == ["east", "mid", "west"] and model.task == "classification"
    assert "3 classes" in repr(model) and "validation top1=" in repr(model)
    preds = model.predict(test)
    assert isinstance(preds, gpd.GeoDataFrame) and list(preds.index) == list(test.index)
    assert list(preds.columns[: len(test.columns)]) == list(test.columns)
    assert set(preds["pred_1"]) <= set(model.classes) and (preds["prob_1"] >= preds["prob_2"]).all()
    assert {"hit@1", "hit@3", "reciprocal_rank", "true_class_prob"} <= set(preds.columns)
    assert preds["hit@1"].mean() > 0.8  # three longitude bands are easy to learn
    bare = model.predict(_lonlat(test)[:5], top_k=1)
    assert list(bare.columns) == ["lon", "lat", "pred_1", "prob_1"]
    np.testing.assert_array_equal(bare["pred_1"], preds["pred_1"].to_numpy()[:5])
    assert model.embed(test).shape == (len(test), model.embedding_dim)
    with pytest.raises(ParameterError, match="top_k"):
        model.predict(test, top_k=0)
    assert len(model.history) == model.metrics["epochs_run"]


def test_regression_predicts_values(data):
    reg = geoenc.train(data[0], label="value", epochs=2, **FAST)
    assert reg.task == "regression" and reg.classes is None
    preds = reg.predict(data[1].drop(columns="value"))
    assert "prediction" in preds.columns and "abs_error" not in preds.columns
    assert set(reg.evaluate(data[1])) == {"r2", "mae", "rmse", "n"}


def test_train_refuses_bad_settings_before_reading(data):
    with pytest.raises(ParameterError, match="did you mean 'epochs'"):
        geoenc.train("not even data", label="region", epoch=3)
    with pytest.raises(UsageError, match="val_fraction"):
        geoenc.train(data[0], label="region", val=data[1], val_fraction=0.1)
    with pytest.raises(InputError, match="label column 'nope'"):
        geoenc.train(data[0], label="nope", epochs=1, **FAST)


def test_predict_and_evaluate_equal_the_commands(cli, model, data, tmp_path):
    model_dir = model.save(tmp_path / "model")
    test_file = tmp_path / "test.parquet"
    data[1].to_crs("EPSG:3857").to_parquet(test_file)  # the CLI reprojects too
    res = cli("evaluate", model_dir, test_file, "--json")
    assert res.exit_code == 0, res.output
    assert model.evaluate(data[1]) == json.loads(res.stdout)
    res = cli("predict", model_dir, test_file, "-o", tmp_path / "preds.parquet")
    assert res.exit_code == 0, res.output
    from_cli = gpd.read_parquet(tmp_path / "preds.parquet")
    ours = model.predict(data[1])
    for col in ("pred_1", "pred_2", "pred_3", "hit@1", "reciprocal_rank"):
        np.testing.assert_array_equal(ours[col].to_numpy(), from_cli[col].to_numpy(), err_msg=col)
    np.testing.assert_allclose(ours["prob_1"], from_cli["prob_1"], rtol=1e-12)


class _PathLike:
    """An ``os.PathLike`` that is not a ``pathlib.Path``."""

    def __init__(self, path):
        self.path = str(path)

    def __fspath__(self):
        return self.path


def test_train_takes_any_path_like_for_init_and_config(model, data, tmp_path):
    # init= was stored as str(init), the object's repr for a PathLike that is not a Path, so training failed
    folder = model.save(tmp_path / "m")
    settings = tmp_path / "train.yaml"
    settings.write_text("epochs: 2\n")
    a = geoenc.train(data[0], label="region", init=_PathLike(folder), config=_PathLike(settings), **FAST)
    b = geoenc.train(data[0], label="region", init=str(folder), config=str(settings), **FAST)
    assert list(a.history["epoch"]) == [1, 2]
    pd.testing.assert_frame_equal(a.predict(data[1]), b.predict(data[1]))


def test_save_load_round_trip(model, data, tmp_path):
    path = model.save(tmp_path / "m")
    again = geoenc.load_model(path)
    assert isinstance(again, geoenc.Model) and again.classes == model.classes and again.path == path
    pd.testing.assert_frame_equal(again.predict(data[1]), model.predict(data[1]))
    assert again.metrics["val"] == pytest.approx(model.metrics["val"])
    assert list(again.history["epoch"]) == list(model.history["epoch"])
    with pytest.raises(OutputError, match="overwrite=True"):
        model.save(path)
    copy = again.save(tmp_path / "copy")
    np.testing.assert_array_equal(geoenc.load_model(copy).embed(data[1]), model.embed(data[1]))
    assert again.save(copy, overwrite=True) == copy
    assert geoenc.load_model(copy).loaded.predict(_lonlat(data[1])[:2]).shape == (2, 3)  # the tensor API stays


# -- geo-bias ---------------------------------------------------------------------------------------------
def test_geobias_equals_the_command(cli, model, data, tmp_path):
    from geoenc.cli.progress import json_safe

    preds = model.predict(data[1])
    preds_file = tmp_path / "preds.parquet"
    preds.to_parquet(preds_file)
    bias = geoenc.geobias(preds, radius_km=2000.0)
    res = cli("geobias", preds_file, "-o", tmp_path / "report.parquet", "--radius-km", "2000", "--json", "--quiet")
    assert res.exit_code == 0, res.output
    (summary,) = json.loads(res.stdout)
    ours = json_safe(bias.summary)
    assert {k: v for k, v in ours.items() if k != "file"} == {k: v for k, v in summary.items() if k != "file"}
    assert bias.unmarked_ssi == bias.summary["unmarked_ssi"] and bias.moran_i == summary["moran_i"]
    assert bias.params["radius_km"] == 2000.0 and bias.n_points == len(preds)
    report = bias.report
    assert isinstance(report, gpd.GeoDataFrame) and list(report.index) == list(preds.index)
    cli_report = gpd.read_parquet(tmp_path / "report.parquet")
    for col in ("bad", "ssi_unmarked", "gi_z", "gi_bin"):
        np.testing.assert_allclose(report[col].to_numpy(float), cli_report[col].to_numpy(float), err_msg=col)
    assert list(bias.latitude_bands.columns[:3]) == ["band", "n", "bad_rate"]
    assert "unmarked SSI" in repr(bias)
    with pytest.raises(AttributeError, match="did you mean 'unmarked_ssi'"):
        _ = bias.unmarked_sssi


def test_geobias_on_plain_frames_and_refusals(model, data):
    preds = model.predict(_lonlat(data[1]))  # no labels: nothing to score
    with pytest.raises(InputError, match="no performance column"):
        geoenc.geobias(preds)
    errors = pd.DataFrame({"lon": data[1].geometry.x, "lat": data[1].geometry.y, "err": data[1]["value"]})
    bias = geoenc.geobias(errors, error="err", threshold=10.0, gi_k=4)
    assert isinstance(bias.report, gpd.GeoDataFrame) and bias.report.crs.equals("OGC:CRS84")
    assert bias.outcome == "err (bad = err > 10)"
    with pytest.raises(ParameterError, match="did you mean 'radius_km'"):
        geoenc.geobias(errors, error="err", threshold=10.0, radius=100)


def test_docstring_examples_run():
    import doctest

    import geoenc.api

    res = doctest.testmod(geoenc.api, extraglobs={"geoenc": geoenc}, optionflags=doctest.ELLIPSIS)
    assert res.attempted >= 1 and res.failed == 0


def test_names_are_checked_before_the_data():
    from geoenc.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="unknown method"):
        geoenc.encode("not even data", "nosuch")
    with pytest.raises(UsageError, match="layout"):
        geoenc.encode("not even data", "xyz", layout="wide")
    with pytest.raises(ParameterError, match="did you mean 'radius_km'"):
        geoenc.geobias("not even data", radius=100)


def test_small_batches_give_the_same_predictions(model, data):
    whole = model.predict(data[1])
    batched = model.predict(data[1], batch_size=7)
    # float32 matrix products may round differently for other batch sizes: probabilities agree to ~1e-6
    pd.testing.assert_frame_equal(batched, whole, check_exact=False, rtol=1e-5, atol=1e-7)
    assert model.evaluate(data[1], batch_size=7) == pytest.approx(model.evaluate(data[1]), rel=1e-5)


def test_ctrl_c_stops_training_with_a_warning_and_a_usable_model(data, tmp_path):
    import os
    import signal

    sent = []

    def interrupt_once(event):
        if event.kind == "batch" and event.epoch == 1 and not sent:  # in the second epoch
            sent.append(event)
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.warns(UserWarning, match="interrupted after 1 full epoch"):
        model = geoenc.train(data[0], label="region", epochs=5, progress=interrupt_once, **FAST)
    assert model.interrupted and "INTERRUPTED" in repr(model) and len(model.history) == 1
    assert set(model.predict(data[1])["pred_1"]) <= set(model.classes)
    assert (model.save(tmp_path / "m") / "checkpoint").is_dir()  # resumable with `geoenc train --resume`


# -- pretrained encoders ----------------------------------------------------------------------------------
def test_import_pretrained_gives_a_model_equal_to_the_command(cli, data, tmp_path):
    from tests.pretrained import upstream_format as U

    names = [row["name"] for row in geoenc.list_pretrained()]
    assert names == ["geoclip", "satclip", "csp", "sinr"]
    src = U.write(U.sinr_checkpoint(**U.SINR_SMALL), tmp_path / "sinr.pt")
    model = geoenc.import_pretrained("sinr", tmp_path / "api", source=src)
    assert model.task == "embedding" and model.embedding_dim == 16
    assert model.spec.section("source")["model"] == "sinr"
    assert cli("pretrained", "import", "sinr", "--from", src, "-o", tmp_path / "cmd").exit_code == 0
    want = geoenc.load_model(tmp_path / "cmd").embed(data[1])
    np.testing.assert_array_equal(model.embed(data[1]), want)
    with pytest.raises(OutputError, match="--overwrite"):
        geoenc.import_pretrained("sinr", tmp_path / "api", source=src)
