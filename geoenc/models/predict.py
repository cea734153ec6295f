"""Predictions and scores of a trained model on points, batch by batch (what ``geoenc predict``/``evaluate`` run).

:class:`Predictor` turns one :class:`geoenc.io.Points` batch at a time into the per-point output columns
and keeps what the metrics need (means over points for classification, the predictions and truths for
regression), so a file of any size is predicted and scored in bounded memory: ``N × C`` probabilities are
never held for more than one batch.

With a prior (another model's class probabilities, one list per point aligned with the model's classes),
predictions are fused as ``P(y | other, x) ∝ P(y | other) · P(y | x)`` (log space, renormalised) and metrics
are reported for the location model alone, the prior alone and the fused prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from geoenc.errors import InputError, ModelError, ParameterError, UsageError
from geoenc.io.columns import column, list_column_to_matrix
from geoenc.metrics.classification import (
    classification_metrics,
    fuse_probabilities,
    merge_metrics,
    per_point_classification,
    top_k,
)
from geoenc.metrics.regression import per_point_regression, regression_metrics
from geoenc.models import data as D
from geoenc.models.checkpoint import LoadedModel


@dataclass
class Predictions:
    """Per-point output ``columns`` (name → array) and, when the label column was present, ``metrics``."""

    columns: dict[str, Any]
    metrics: dict[str, Any] | None


class Predictor:
    """Predict batch after batch with one model; :meth:`metrics` scores everything seen so far.

    Classification columns: ``pred_1…pred_k`` (class names), ``prob_1…prob_k``; with labels also ``hit@1``,
    ``hit@3``, ``reciprocal_rank``, ``true_class_prob``. Regression: ``prediction``, with labels also
    ``error`` (prediction − truth) and ``abs_error``.
    """

    def __init__(
        self,
        model: LoadedModel,
        *,
        top: int = 3,
        prior: str | None = None,
        label: str | None = None,
        batch_size: int = 65536,
    ) -> None:
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise ParameterError(f"the number of classes per point (--top-k, top_k=) must be 1 or more, got {top!r}")
        if prior is not None and model.task == "regression":
            raise UsageError("--prior fuses class probabilities: it needs a classification model")
        if model.task == "embedding":
            raise ModelError(
                f"model {model.path or ''} has no prediction head (it is a location encoder): use "
                "`geoenc encode --model` for its embeddings, or fine-tune it with `geoenc train --init`"
            )
        self.model, self.top, self.prior, self.label, self.batch_size = model, top, prior, label, batch_size
        self._parts: dict[str, list[dict[str, float]]] = {"location": [], "prior": [], "fused": []}
        self._pred: list[np.ndarray] = []
        self._truths: list[np.ndarray] = []
        self._scored = False
        self._classes = np.asarray(model.classes or [], dtype=object)

    def _features(self, points: Any) -> np.ndarray | None:
        col = self.model.feature_column
        return list_column_to_matrix(column(points, col, "feature"), col) if col else None

    def _prior(self, points: Any) -> np.ndarray:
        name = str(self.prior)
        p = list_column_to_matrix(column(points, name, "prior"), name).astype(np.float64)
        c = len(self._classes)
        if p.shape[1] != c:
            raise InputError(
                f"prior column {name!r} has {p.shape[1]} values per point but the model has {c} classes "
                "(it must list probabilities in the model's class order)"
            )
        if (p < 0).any() or not np.isfinite(p).all():
            raise InputError(f"prior column {name!r} has negative or non-finite probabilities")
        normalised: np.ndarray = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        return normalised

    def _truth(self, points: Any) -> np.ndarray | None:
        """Encoded labels (class indices, −1 for unknown classes; multi-hot rows; raw targets), or None."""
        name = self.label or self.model.label
        if not name or name not in points.attrs.column_names:
            if self.label:
                column(points, self.label, "label")  # raises with the list of columns
            return None
        pd = D.from_points(points, name, None)
        task = self.model.task
        if task == "regression":
            return np.asarray(D.encode_labels(pd, "regression", None, {"mean": 0.0, "std": 1.0}), dtype=np.float64)
        if task == "multilabel":
            return D.encode_labels(pd, "multilabel", self.model.classes, None).astype(bool)
        return D.encode_labels(pd, "classification", self.model.classes, None)

    def __call__(self, points: Any) -> dict[str, Any]:
        """The output columns for one batch of points (and their contribution to the metrics)."""
        lonlat = np.column_stack((np.asarray(points.lon, np.float64), np.asarray(points.lat, np.float64)))
        feats = self._features(points)
        y = self._truth(points)
        other = self._prior(points) if self.prior is not None else None
        self._scored = self._scored or y is not None
        outs = [b.cpu().numpy().astype(np.float64) for b in self.model.predict_batches(lonlat, feats, self.batch_size)]
        out = np.concatenate(outs) if outs else np.zeros((0,))
        if self.model.task == "regression":
            if y is None:
                return {"prediction": out}
            self._pred.append(out)
            self._truths.append(y)
            return per_point_regression(out, y)
        probs = out
        if other is not None:
            fused = fuse_probabilities(probs, other)
            if y is not None:
                self._parts["location"].append(classification_metrics(probs, y))
                self._parts["prior"].append(classification_metrics(other, y))
                self._parts["fused"].append(classification_metrics(fused, y))
            probs = fused
        elif y is not None:
            self._parts["location"].append(classification_metrics(probs, y))
        cols: dict[str, Any] = {}
        idx, val = top_k(probs, self.top)
        for j in range(idx.shape[1]):
            cols[f"pred_{j + 1}"] = self._classes[idx[:, j]].astype(str)
            cols[f"prob_{j + 1}"] = val[:, j]
        if y is not None:
            cols.update(per_point_classification(probs, y))
        return cols

    def metric_parts(self) -> dict[str, Any] | None:
        """What :func:`merge_metric_parts` needs to score the union of several predictors' points (the
        partitions of a dataset): per-batch classification metrics, or regression sums. None without labels."""
        if not self._scored:
            return None
        if self.model.task == "regression":
            p, t = np.concatenate(self._pred), np.concatenate(self._truths)
            err = p - t
            return {
                "kind": "regression",
                "n": int(t.size),
                "abs": float(np.abs(err).sum()),
                "sq": float((err * err).sum()),
                "t_mean": float(t.mean()),
                "t_m2": float(((t - t.mean()) ** 2).sum()),
            }
        parts = {k: [merge_metrics(v)] for k, v in self._parts.items() if v}
        return {"kind": "classification", "fused": self.prior is not None, "parts": parts}

    def metrics(self) -> dict[str, Any] | None:
        """Metrics over every batch seen (None when no batch had the label column)."""
        if not self._scored:
            return None
        if self.model.task == "regression":
            return regression_metrics(np.concatenate(self._pred), np.concatenate(self._truths))
        if self.prior is not None:
            return {k: merge_metrics(v) for k, v in self._parts.items()}
        return merge_metrics(self._parts["location"])


def merge_metric_parts(parts: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The metrics over the union of the points behind several :meth:`Predictor.metric_parts` (None: no labels).

    Classification: every metric is a mean over points, merged exactly (``n``-weighted). Regression: MAE and RMSE
    from the summed errors; R² from the pooled truth variance (Chan et al.'s pairwise update), equal to the
    single-pass value up to rounding.
    """
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return _merge_present(present)


def _merge_present(parts: list[dict[str, Any]]) -> dict[str, Any]:
    if parts[0]["kind"] == "regression":
        n, mean, m2 = 0, 0.0, 0.0
        for p in parts:
            nb = p["n"]
            delta = p["t_mean"] - mean
            tot = n + nb
            mean += delta * nb / tot
            m2 += p["t_m2"] + delta * delta * n * nb / tot
            n = tot
        sq = sum(p["sq"] for p in parts)
        return {
            "r2": 1.0 - sq / m2 if m2 > 0 else float("nan"),
            "mae": sum(p["abs"] for p in parts) / n,
            "rmse": float(np.sqrt(sq / n)),
            "n": int(n),
        }
    keys = ("location", "prior", "fused") if parts[0]["fused"] else ("location",)
    merged = {k: merge_metrics([m for p in parts for m in p["parts"][k]]) for k in keys}
    return merged if parts[0]["fused"] else merged["location"]


def predict_points(
    model: LoadedModel,
    points: Any,
    *,
    top: int = 3,
    prior: str | None = None,
    label: str | None = None,
    batch_size: int = 65536,
) -> Predictions:
    """Predict for one :class:`geoenc.io.Points` table (columns as written by ``geoenc predict``).

    The rows go through :class:`Predictor` ``batch_size`` at a time (as ``geoenc predict`` streams a file), so
    no more than ``batch_size × C`` probabilities are held at once; the columns are joined at the end.
    """
    predictor = Predictor(model, top=top, prior=prior, label=label, batch_size=batch_size)
    parts = [predictor(batch) for batch in _batches(points, batch_size)]
    cols = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]} if parts else {}
    return Predictions(cols, predictor.metrics())


def _batches(points: Any, rows: int) -> list[Any]:
    return points.batches(rows) if hasattr(points, "batches") else [points]


def evaluate_points(
    model: LoadedModel, points: Any, *, prior: str | None = None, label: str | None = None, batch_size: int = 65536
) -> dict[str, Any]:
    """Metrics of ``model`` on labelled points: top-1/top-3/MRR (classification) or R²/MAE/RMSE."""
    name = label or model.label
    if not name or name not in points.attrs.column_names:
        cols = ", ".join(points.attrs.column_names) or "none"
        raise InputError(f"label column {name!r} is not in the input (columns: {cols}); pass label=COLUMN")
    return predict_points(model, points, top=1, prior=prior, label=name, batch_size=batch_size).metrics or {}
