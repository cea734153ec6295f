"""Labelled points: extraction from :class:`geoenc.io.Points`, label encoding, splits and label fractions.

Shared by training (which fits classes and target statistics) and prediction (which encodes true labels
the same way to score a model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from geoenc.errors import InputError, ParameterError, UsageError
from geoenc.io.columns import arrow_kind, column, list_column_to_matrix

#: integer label columns with at most this many distinct values are taken as classes
MAX_INTEGER_CLASSES = 100


@dataclass
class PointData:
    """Raw training points: ``lonlat`` (N, 2) degrees, ``labels`` (N,) values, optional ``features`` (N, F).

    ``labels`` is a numpy array: strings/objects (classes), floats (regression), integers (classes when
    few distinct values, else regression), or an object array of lists (multi-label). ``label_kind``
    records what the source column was (``categorical``, ``numeric``, ``integer``, ``list``).
    """

    lonlat: np.ndarray
    labels: np.ndarray | None = None
    features: np.ndarray | None = None
    label_kind: str | None = None
    label_name: str | None = None

    def __post_init__(self) -> None:
        self.lonlat = np.asarray(self.lonlat, dtype=np.float64)
        if self.lonlat.ndim != 2 or self.lonlat.shape[1] != 2:
            raise InputError(f"expected (N, 2) lon/lat, got shape {self.lonlat.shape}")
        if not np.isfinite(self.lonlat).all():
            raise InputError("some coordinates are NaN or infinite: drop those rows")
        n = len(self)
        if self.labels is not None:
            if self.label_kind is None:
                self.label_kind = _kind_of_array(
                    np.asarray(self.labels, dtype=object if _has_lists(self.labels) else None)
                )
            self.labels = (
                np.asarray(self.labels, dtype=object) if self.label_kind == "list" else np.asarray(self.labels)
            )
            if len(self.labels) != n:
                raise InputError(f"{len(self.labels)} labels for {n} points")
        if self.features is not None:
            self.features = np.array(self.features, dtype=np.float32)  # a writable copy
            if self.features.ndim != 2 or self.features.shape[0] != n:
                raise InputError(f"features must be (N, F) with N={n}, got shape {self.features.shape}")
            if not np.isfinite(self.features).all():
                raise InputError("the feature column has NaN or infinite values: fix or drop those rows")

    def __len__(self) -> int:
        return int(self.lonlat.shape[0])

    def subset(self, idx: np.ndarray) -> PointData:
        return PointData(
            self.lonlat[idx],
            None if self.labels is None else self.labels[idx],
            None if self.features is None else self.features[idx],
            self.label_kind,
            self.label_name,
        )


def _has_lists(values: Any) -> bool:
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    return arr.dtype == object and len(arr) > 0 and isinstance(arr[0], (list, tuple, np.ndarray))


def _kind_of_array(arr: np.ndarray) -> str:
    if arr.dtype.kind == "f":
        return "numeric"
    if arr.dtype.kind in "iu":
        return "integer"
    if arr.dtype == object and len(arr) and all(isinstance(v, (list, tuple, np.ndarray)) for v in arr[:100]):
        return "list"
    return "categorical"


def from_points(
    points: Any, label: str | None, features: str | None = None, *, require_label: bool = True
) -> PointData:
    """Build :class:`PointData` from a :class:`geoenc.io.Points` (``.lon``, ``.lat``, ``.attrs``)."""
    lonlat = np.column_stack((np.asarray(points.lon, dtype=np.float64), np.asarray(points.lat, dtype=np.float64)))
    labels = kind = None
    if label is not None and (require_label or label in points.attrs.column_names):
        col = column(points, label, "label")
        kind = arrow_kind(col.type)
        if kind == "list":
            labels = np.empty(len(col), dtype=object)
            labels[:] = col.to_pylist()
        elif kind == "categorical":
            labels = np.asarray(col.to_pylist(), dtype=object)
        else:
            labels = col.to_numpy(zero_copy_only=False)
            if kind == "integer" and col.null_count:
                labels = np.asarray(col.to_pylist(), dtype=object)
    elif require_label:
        raise UsageError("pass the label column with --label")
    feats = list_column_to_matrix(column(points, features, "feature"), features) if features else None
    return PointData(lonlat, labels, feats, kind, label)


# -- label encoding ------------------------------------------------------------------------------------
def _labels(data: PointData) -> np.ndarray:
    """``data.labels``; a UsageError when the points were read without a label column."""
    if data.labels is None:
        raise UsageError("pass the label column with --label")
    return data.labels


def infer_task(data: PointData) -> str:
    kind = data.label_kind
    if kind == "list":
        return "multilabel"
    if kind == "numeric":
        return "regression"
    if kind == "integer":
        n_unique = len(np.unique(np.asarray([v for v in _labels(data) if v is not None])))
        return "classification" if n_unique <= MAX_INTEGER_CLASSES else "regression"
    return "classification"


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _class_name(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def fit_classes(data: PointData, task: str) -> list[str]:
    name = data.label_name or "label"
    labels = _labels(data)
    if task == "multilabel":
        classes = sorted({_class_name(c) for row in labels if row is not None for c in row})
    else:
        missing = sum(_is_missing(v) for v in labels)
        if missing:
            raise InputError(f"label column {name!r} has {missing} missing values: drop those rows")
        classes = sorted({_class_name(v) for v in labels})
    if len(classes) < 2:
        raise InputError(
            f"label column {name!r} has {len(classes)} class{'es' if len(classes) != 1 else ''} "
            f"({', '.join(classes) or 'none'}): classification needs at least two"
        )
    return classes


def encode_labels(data: PointData, task: str, classes: list[str] | None, stats: dict[str, float] | None) -> np.ndarray:
    """Class indices (unknown class → −1), multi-hot rows, or standardised float targets.

    ``stats``: the target's mean and std (:func:`target_stats`), needed for regression.
    """
    name = data.label_name or "label"
    labels = _labels(data)
    if task == "regression":
        if stats is None:
            raise ValueError("encode_labels: regression targets need stats (mean, std)")
        y = numeric_targets(data)
        return ((y - stats["mean"]) / stats["std"]).astype(np.float32)
    index = {c: i for i, c in enumerate(classes or [])}
    if task == "multilabel":
        y = np.zeros((len(data), len(index)), dtype=np.float32)
        for r, row in enumerate(labels):
            for c in row or []:
                j = index.get(_class_name(c))
                if j is not None:
                    y[r, j] = 1.0
        return y
    missing = sum(_is_missing(v) for v in labels)
    if missing:
        raise InputError(f"label column {name!r} has {missing} missing values: drop those rows")
    return np.asarray([index.get(_class_name(v), -1) for v in labels], dtype=np.int64)


def numeric_targets(data: PointData) -> np.ndarray:
    """The labels as finite float64 regression targets, or a one-line InputError."""
    name = data.label_name or "label"
    try:
        y = np.asarray(_labels(data), dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"label column {name!r} is not numeric: use --task classification") from None
    bad = int((~np.isfinite(y)).sum())
    if bad:
        raise InputError(f"label column {name!r} has {bad} missing/NaN/infinite targets: drop those rows")
    return y


def target_stats(data: PointData) -> dict[str, float]:
    """Mean and standard deviation of the regression targets (refused when too large to standardise)."""
    name = data.label_name or "label"
    y = numeric_targets(data)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(y.mean()), float(y.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise InputError(
            f"label column {name!r} has values too large to standardise (|y| up to {np.abs(y).max():.3g}): "
            "rescale the target, e.g. to other units or its logarithm"
        )
    return {"mean": mean, "std": std if std > 0 else 1.0}


def split_validation(
    n: int, fraction: float, seed: int | np.random.Generator, strata: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation split; stratified by ``strata`` (class codes) when given.

    Each class sends ``round(fraction · n_c)`` points to validation but keeps at least one in training.
    """
    rng = np.random.default_rng(seed)
    if strata is None:
        perm = rng.permutation(n)
        k = round(fraction * n)
        return np.sort(perm[k:]), np.sort(perm[:k])
    val = []
    for c in np.unique(strata):
        idx = np.nonzero(strata == c)[0]
        idx = idx[rng.permutation(idx.size)]
        k = min(round(fraction * idx.size), idx.size - 1)
        val.append(idx[:k])
    v = np.sort(np.concatenate(val)) if val else np.zeros(0, dtype=np.int64)
    mask = np.ones(n, dtype=bool)
    mask[v] = False
    return np.nonzero(mask)[0], v


def stratified_fraction(labels: Any, fraction: float, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Sorted indices of a seeded, class-stratified ``fraction`` of ``labels`` (CSP's few-shot protocol).

    Each class keeps ``round(fraction · n_c)`` points, at least one; ``fraction=1`` returns every index.
    ``labels`` is any 1-D sequence of hashable class labels (strings, integers). The same seed always picks
    the same points, and a smaller fraction's subset is not required to be nested in a larger one's.
    """
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        raise ParameterError(f"train fraction {fraction!r} is not a number") from None
    if not (0 < f <= 1):
        raise ParameterError(f"train fraction {fraction!r} must be in (0, 1]")
    y = np.asarray(labels, dtype=object)
    if y.ndim != 1:
        raise ParameterError(f"labels must be one per point (1-D), got shape {y.shape}")
    n = y.shape[0]
    if f == 1:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keys = np.asarray([str(v) for v in y])
    picked = []
    for c in np.unique(keys):
        idx = np.nonzero(keys == c)[0]
        k = max(1, round(f * idx.size))
        picked.append(idx[rng.permutation(idx.size)[:k]])
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)
