"""Regression metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geoenc.metrics.regression import per_point_regression, regression_metrics


def test_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.0, 4.0])
    m = regression_metrics(p, y)
    assert m["mae"] == pytest.approx(1.5 / 4)
    assert m["rmse"] == pytest.approx(math.sqrt(1.25 / 4))
    assert m["r2"] == pytest.approx(1 - 1.25 / 5.0)
    assert m["n"] == 4
    cols = per_point_regression(p, y)
    np.testing.assert_allclose(cols["error"], [0.5, 0, -1, 0])
    np.testing.assert_allclose(cols["abs_error"], [0.5, 0, 1, 0])
    np.testing.assert_allclose(cols["prediction"], p)


def test_constant_truth_gives_nan_r2():
    assert math.isnan(regression_metrics([1.0, 2.0], [3.0, 3.0])["r2"])


def test_length_mismatch():
    with pytest.raises(ValueError):
        regression_metrics([1.0], [1.0, 2.0])
