"""Classification metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from geoenc.metrics.classification import (
    classification_metrics,
    fuse_probabilities,
    per_point_classification,
    top_k,
    true_class_rank,
)

P = np.array(
    [
        [0.7, 0.2, 0.1],  # true 0 → rank 1
        [0.5, 0.3, 0.2],  # true 2 → rank 3
        [0.1, 0.6, 0.3],  # true 2 → rank 2
        [0.2, 0.3, 0.5],  # true -1 (unknown) → miss
    ]
)
Y = np.array([0, 2, 2, -1])


def test_ranks_and_per_point_columns():
    np.testing.assert_array_equal(true_class_rank(P, Y), [1, 3, 2, np.inf])
    cols = per_point_classification(P, Y)
    np.testing.assert_array_equal(cols["hit@1"], [1, 0, 0, 0])
    np.testing.assert_array_equal(cols["hit@3"], [1, 1, 1, 0])
    np.testing.assert_allclose(cols["reciprocal_rank"], [1, 1 / 3, 1 / 2, 0])
    np.testing.assert_allclose(cols["true_class_prob"], [0.7, 0.2, 0.3, 0.0])


def test_summary_metrics():
    m = classification_metrics(P, Y)
    assert m["top1"] == pytest.approx(1 / 4)
    assert m["top3"] == pytest.approx(3 / 4)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 2 + 0) / 4)
    assert m["n"] == 4
    assert m["log_loss"] == pytest.approx(np.mean(-np.log([0.7, 0.2, 0.3, 1e-12])))


def test_ties_rank_pessimistically():
    np.testing.assert_array_equal(true_class_rank([[0.5, 0.5, 0.0]], [1]), [2])
    # a zero-probability true class tied with many others is not a top-3 hit
    np.testing.assert_array_equal(true_class_rank([[0.9, 0.1, 0.0, 0.0, 0.0]], [3]), [5])


def test_multilabel_rank_is_best_true_class():
    y = np.array([[False, True, True], [False, False, False]])
    np.testing.assert_array_equal(true_class_rank(P[:2], y), [2, np.inf])


def test_top_k():
    idx, val = top_k(P, 2)
    np.testing.assert_array_equal(idx, [[0, 1], [0, 1], [1, 2], [2, 1]])
    np.testing.assert_allclose(val[:, 0], [0.7, 0.5, 0.6, 0.5])
    assert top_k(P, 10)[0].shape == (4, 3)


def test_fusion_by_hand():
    loc = np.array([[0.5, 0.25, 0.25]])
    other = np.array([[0.2, 0.4, 0.4]])
    # products 0.1, 0.1, 0.1 → uniform
    np.testing.assert_allclose(fuse_probabilities(loc, other), [[1 / 3, 1 / 3, 1 / 3]])
    loc = np.array([[0.6, 0.4]])
    other = np.array([[0.25, 0.75]])
    # 0.15 vs 0.30 → 1/3, 2/3
    np.testing.assert_allclose(fuse_probabilities(loc, other), [[1 / 3, 2 / 3]])
    # log-space: tiny probabilities do not underflow to NaN
    f = fuse_probabilities(np.array([[1e-300, 1.0]]), np.array([[1.0, 1e-300]]))
    assert np.isfinite(f).all() and f.sum() == pytest.approx(1.0)


def test_bad_shapes():
    with pytest.raises(ValueError):
        classification_metrics(np.zeros(3), [0, 1, 2])
    with pytest.raises(ValueError):
        classification_metrics(P, [0, 1])


def test_nan_scores_never_count_as_hits():
    """A diverged model scores NaN everywhere: it used to get top-1 = top-3 = MRR ≈ 1 (NaN compared as a hit)."""
    import numpy as np

    from geoenc.metrics.classification import classification_metrics, per_point_classification

    probs = np.full((4, 5), np.nan)
    y = np.array([0, 1, 2, 3])
    m = classification_metrics(probs, y)
    assert m["top1"] == 0.0 and m["top3"] == 0.0 and m["mrr"] == 0.2  # ranked last of 5
    partly = np.array([[np.nan, 0.1, 0.2], [0.7, np.nan, 0.1]])
    cols = per_point_classification(partly, np.array([0, 0]))
    assert list(cols["hit@1"]) == [0.0, 1.0] and cols["reciprocal_rank"][0] == 1 / 3
