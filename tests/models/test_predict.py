"""predict_points / evaluate_points on Points: per-point columns, unknown classes and prior fusion."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from geoenc.errors import InputError, UsageError
from geoenc.io import Points
from geoenc.metrics.classification import classification_metrics, fuse_probabilities
from geoenc.models.predict import evaluate_points, predict_points
from geoenc.training import train
from tests.training.helpers import point_table, quadrants, small_config, smooth_values


@pytest.fixture(scope="module")
def model():
    return train(small_config(epochs=3, label="region"), quadrants()).loaded


def _points(n=50, **kw):
    lon, lat, attrs = point_table(n, seed=5, **kw)
    return Points(lon, lat, attrs)


def test_columns_and_metrics(model):
    pts = _points()
    res = predict_points(model, pts, top=2)
    assert list(res.columns) == [
        "pred_1",
        "prob_1",
        "pred_2",
        "prob_2",
        "hit@1",
        "hit@3",
        "reciprocal_rank",
        "true_class_prob",
    ]
    assert set(res.columns["pred_1"]) <= {"NE", "NW", "SE", "SW"}
    assert (res.columns["prob_1"] >= res.columns["prob_2"]).all()
    assert res.metrics["top1"] == pytest.approx(res.columns["hit@1"].mean())
    assert evaluate_points(model, pts) == res.metrics


def test_without_label_no_scores(model):
    pts = _points()
    pts = Points(pts.lon, pts.lat, pts.attrs.drop_columns(["region"]))
    res = predict_points(model, pts)
    assert res.metrics is None and "hit@1" not in res.columns
    with pytest.raises(InputError, match="label column 'region'"):
        evaluate_points(model, pts)


def test_unknown_classes_count_as_misses(model):
    pts = _points(4)
    attrs = pts.attrs.set_column(0, "region", pa.array(["NE", "XX", "SW", "YY"]))
    res = predict_points(model, Points(pts.lon, pts.lat, attrs))
    assert res.columns["hit@3"][1] == 0 and res.columns["true_class_prob"][3] == 0


def test_prior_fusion_matches_hand_product(model):
    pts = _points(with_prior=True)
    prior = np.tile([0.7, 0.1, 0.1, 0.1], (len(pts), 1))
    attrs = pts.attrs.set_column(
        pts.attrs.column_names.index("prior"), "prior", pa.array(list(prior), pa.list_(pa.float64()))
    )
    pts = Points(pts.lon, pts.lat, attrs)
    plain = predict_points(model, pts)
    fused = predict_points(model, pts, prior="prior", top=4)
    classes = ["NE", "NW", "SE", "SW"]
    fused_probs = np.zeros((len(pts), 4))
    for j in range(1, 5):  # the top-4 columns hold every class's fused probability
        for i, (c, v) in enumerate(zip(fused.columns[f"pred_{j}"], fused.columns[f"prob_{j}"], strict=True)):
            fused_probs[i, classes.index(c)] = v
    p_loc = model.predict(np.column_stack([pts.lon, pts.lat])).numpy().astype(np.float64)
    expect = p_loc * prior
    expect /= expect.sum(1, keepdims=True)
    np.testing.assert_allclose(fused_probs, expect, rtol=1e-6)
    np.testing.assert_allclose(fused_probs, fuse_probabilities(p_loc, prior), rtol=1e-6)
    y = np.array([["NE", "NW", "SE", "SW"].index(r) for r in pts.attrs.column("region").to_pylist()])
    assert fused.metrics["location"] == plain.metrics
    assert fused.metrics["prior"] == pytest.approx(classification_metrics(prior, y))
    assert fused.metrics["fused"] == pytest.approx(classification_metrics(expect, y))


def test_prior_errors(model):
    pts = _points(with_prior=True)
    bad = pts.attrs.set_column(
        pts.attrs.column_names.index("prior"), "prior", pa.array([[0.5, 0.5]] * len(pts), pa.list_(pa.float64()))
    )
    with pytest.raises(InputError, match="4 classes"):
        predict_points(model, Points(pts.lon, pts.lat, bad), prior="prior")
    with pytest.raises(InputError, match="prior column 'nope' not found"):
        predict_points(model, pts, prior="nope")
    reg = train(small_config(epochs=1), smooth_values(50)).loaded
    with pytest.raises(UsageError, match="classification"):
        predict_points(reg, pts, prior="prior")


def test_regression_columns():
    reg = train(small_config(epochs=3, label="value"), smooth_values()).loaded
    res = predict_points(reg, _points())
    assert list(res.columns) == ["prediction", "error", "abs_error"]
    assert set(res.metrics) == {"r2", "mae", "rmse", "n"}
