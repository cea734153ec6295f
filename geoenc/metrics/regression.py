"""Regression metrics: pure numpy, no torch."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _as_arrays(pred: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    t = np.asarray(y, dtype=np.float64).reshape(-1)
    if p.shape != t.shape:
        raise ValueError(f"pred has {p.size} values but y has {t.size}")
    return p, t


def per_point_regression(pred: ArrayLike, y: ArrayLike) -> dict[str, np.ndarray]:
    """Per-point columns: ``prediction``, ``error`` (prediction − truth) and ``abs_error``."""
    p, t = _as_arrays(pred, y)
    err = p - t
    return {"prediction": p, "error": err, "abs_error": np.abs(err)}


def regression_metrics(pred: ArrayLike, y: ArrayLike) -> dict[str, float]:
    """``r2`` (coefficient of determination; nan for constant truth), ``mae``, ``rmse`` and ``n``."""
    p, t = _as_arrays(pred, y)
    if p.size == 0:
        raise ValueError("no points to evaluate")
    err = p - t
    ss_res = float(np.sum(err**2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    return {
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "n": int(p.size),
    }
