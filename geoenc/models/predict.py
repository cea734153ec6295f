"""Predictions and evaluation of a trained model on points (what ``geoenc predict``/``evaluate`` wrap).

With a prior (another model's class probabilities, one list per point aligned with the model's classes),
predictions are fused as ``P(y | other, x) ∝ P(y | other) · P(y | x)`` (log space, renormalised) and
metrics are reported for the location model alone, the prior alone and the fused prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from geoenc.errors import InputError, UsageError
from geoenc.metrics.classification import (
    classification_metrics,
    fuse_probabilities,
    per_point_classification,
    top_k,
)
from geoenc.metrics.regression import per_point_regression, regression_metrics
from geoenc.models.checkpoint import LoadedModel


@dataclass
class Predictions:
    """Per-point output ``columns`` (name → array) and, when the label column was present, ``metrics``."""

    columns: dict[str, Any]
    metrics: dict[str, Any] | None
    probs: np.ndarray | None = None


def _features(model: LoadedModel, points: Any) -> np.ndarray | None:
    col = model.feature_column
    if not col:
        return None
    from geoenc.training.data import _column, list_column_to_matrix

    return list_column_to_matrix(_column(points, col, "feature"), col)


def _prior(model: LoadedModel, points: Any, prior: str) -> np.ndarray:
    from geoenc.training.data import _column, list_column_to_matrix

    if model.task == "regression":
        raise UsageError("--prior fuses class probabilities: it needs a classification model")
    p = list_column_to_matrix(_column(points, prior, "prior"), prior).astype(np.float64)
    c = len(model.classes or [])
    if p.shape[1] != c:
        raise InputError(
            f"prior column {prior!r} has {p.shape[1]} values per point but the model has {c} classes "
            "(it must list probabilities in the model's class order)"
        )
    if (p < 0).any() or not np.isfinite(p).all():
        raise InputError(f"prior column {prior!r} has negative or non-finite probabilities")
    return p


def _truth(model: LoadedModel, points: Any, label: str | None) -> np.ndarray | None:
    """Encoded labels (class indices, −1 for unknown classes; or raw float targets), or None when absent."""
    from geoenc.training import data as D

    name = label or model.label
    if not name or name not in points.attrs.column_names:
        if label:
            D._column(points, label, "label")  # raises with the list of columns
        return None
    pd = D.from_points(points, name, None)
    if model.task == "regression":
        return np.asarray(D.encode_labels(pd, "regression", None, {"mean": 0.0, "std": 1.0}), dtype=np.float64)
    if model.task == "multilabel":
        return D.encode_labels(pd, "multilabel", model.classes, None).astype(bool)
    return D.encode_labels(pd, "classification", model.classes, None)


def predict_points(
    model: LoadedModel,
    points: Any,
    *,
    top: int = 3,
    prior: str | None = None,
    label: str | None = None,
    batch_size: int = 65536,
) -> Predictions:
    """Predict for :class:`geoenc.io.Points`; columns as written by ``geoenc predict``.

    Classification: ``pred_1…pred_k`` (class names) and ``prob_1…prob_k``; with labels also ``hit@1``,
    ``hit@3``, ``reciprocal_rank``, ``true_class_prob``. Regression: ``prediction`` and with labels
    ``error`` (prediction − truth) and ``abs_error``.
    """
    if prior is not None and model.task == "regression":
        raise UsageError("--prior fuses class probabilities: it needs a classification model")
    lonlat = np.column_stack((np.asarray(points.lon, np.float64), np.asarray(points.lat, np.float64)))
    feats = _features(model, points)
    y = _truth(model, points, label)
    out = model.predict(lonlat, feats, batch_size=batch_size).cpu().numpy().astype(np.float64)
    cols: dict[str, Any] = {}
    if model.task == "regression":
        if y is not None:
            cols.update(per_point_regression(out, y))
            return Predictions(cols, regression_metrics(out, y))
        cols["prediction"] = out
        return Predictions(cols, None)
    probs = out
    metrics: dict[str, Any] | None = None
    if prior is not None:
        other = _prior(model, points, prior)
        other = other / np.clip(other.sum(axis=1, keepdims=True), 1e-12, None)
        fused = fuse_probabilities(probs, other)
        if y is not None:
            metrics = {
                "location": classification_metrics(probs, y),
                "prior": classification_metrics(other, y),
                "fused": classification_metrics(fused, y),
            }
        probs = fused
    elif y is not None:
        metrics = classification_metrics(probs, y)
    classes = np.asarray(model.classes, dtype=object)
    idx, val = top_k(probs, top)
    for j in range(idx.shape[1]):
        cols[f"pred_{j + 1}"] = classes[idx[:, j]].astype(str)
        cols[f"prob_{j + 1}"] = val[:, j]
    if y is not None:
        cols.update(per_point_classification(probs, y))
    return Predictions(cols, metrics, probs)


def evaluate_points(
    model: LoadedModel, points: Any, *, prior: str | None = None, label: str | None = None, batch_size: int = 65536
) -> dict[str, Any]:
    """Metrics of ``model`` on labelled points: top-1/top-3/MRR (classification) or R²/MAE/RMSE."""
    name = label or model.label
    if not name or name not in points.attrs.column_names:
        cols = ", ".join(points.attrs.column_names) or "none"
        raise InputError(f"label column {name!r} is not in the input (columns: {cols}); pass --label")
    result = predict_points(model, points, top=1, prior=prior, label=name, batch_size=batch_size)
    return result.metrics or {}
