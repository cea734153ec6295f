"""Classification metrics on predicted class scores: pure numpy, no torch.

``probs`` is an ``(N, C)`` array of scores (probabilities, or any monotone score); ``y`` is either an
``(N,)`` integer array of true class indices (``-1`` marks a label the model does not know: it counts as a
miss with rank ``inf`` and probability 0) or an ``(N, C)`` boolean multi-hot array (multi-label: a point's
rank is that of its best-ranked true class).

NaN scores (a diverged model) rank below every number, so they never count as hits.
Ranks are pessimistic on ties: the rank of the true class is the number of classes scoring at least as
high as it (itself included). A model that gives many classes the same score (kNN's zero probabilities,
for instance) cannot score hits by ties.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _as_arrays(probs: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probs must be (N, C), got shape {p.shape}")
    if np.isnan(p).any():  # a NaN score ranks last: it must never count as a hit
        p = np.where(np.isnan(p), -np.inf, p)
    t = np.asarray(y)
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"probs has {p.shape[0]} rows but y has {t.shape[0]}")
    return p, t


def true_class_prob(probs: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Score of the true class per point (multi-label: the highest score among the true classes)."""
    p, t = _as_arrays(probs, y)
    if t.ndim == 2:
        masked = np.where(t.astype(bool), p, -np.inf)
        best = masked.max(axis=1)
        return np.where(np.isfinite(best), best, 0.0)
    t = t.astype(np.int64)
    known = (t >= 0) & (t < p.shape[1])
    out = np.zeros(p.shape[0], dtype=np.float64)
    out[known] = p[np.nonzero(known)[0], t[known]]
    return out


def true_class_rank(probs: ArrayLike, y: ArrayLike) -> np.ndarray:
    """1-based rank of the true class per point (float; ``inf`` for an unknown label)."""
    p, t = _as_arrays(probs, y)
    score = true_class_prob(p, t)
    if t.ndim == 2:
        known = t.astype(bool).any(axis=1)
    else:
        t = t.astype(np.int64)
        known = (t >= 0) & (t < p.shape[1])
    rank: np.ndarray = (p >= score[:, None]).sum(axis=1).astype(np.float64)
    if t.ndim == 1:
        rank = np.maximum(rank, 1.0)
    rank[~known] = np.inf
    return rank


def per_point_classification(probs: ArrayLike, y: ArrayLike) -> dict[str, np.ndarray]:
    """The per-point columns geo-bias scores read: ``hit@1``, ``hit@3``, ``reciprocal_rank``, ``true_class_prob``."""
    rank = true_class_rank(probs, y)
    return {
        "hit@1": (rank <= 1).astype(np.float64),
        "hit@3": (rank <= 3).astype(np.float64),
        "reciprocal_rank": 1.0 / rank,
        "true_class_prob": true_class_prob(probs, y),
    }


def top_k(probs: ArrayLike, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``k`` highest-scoring classes per row, best first (stable on ties)."""
    p = np.asarray(probs)
    k = max(1, min(int(k), p.shape[1]))
    idx = np.argsort(-p, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(p, idx, axis=1)


def classification_metrics(probs: ArrayLike, y: ArrayLike, ks: tuple[int, ...] = (1, 3)) -> dict[str, float]:
    """``top1``, ``top3`` (per ``ks``) accuracy and mean reciprocal rank ``mrr``, plus ``n``.

    ``log_loss`` (mean −log of the true-class score, clipped at 1e-12) is added for single-label ``y``.
    """
    p, t = _as_arrays(probs, y)
    n = p.shape[0]
    if n == 0:
        raise ValueError("no points to evaluate")
    rank = true_class_rank(p, t)
    out: dict[str, float] = {f"top{k}": float(np.mean(rank <= k)) for k in ks}
    out["mrr"] = float(np.mean(1.0 / rank))
    if t.ndim == 1:
        out["log_loss"] = float(np.mean(-np.log(np.clip(true_class_prob(p, t), 1e-12, None))))
    out["n"] = int(n)
    return out


def fuse_probabilities(location_probs: ArrayLike, other_probs: ArrayLike, eps: float = 1e-12) -> np.ndarray:
    """``P(y | other, x) ∝ P(y | other) · P(y | x)``, renormalised per row, computed in log space."""
    a = np.log(np.clip(np.asarray(location_probs, dtype=np.float64), eps, None))
    b = np.log(np.clip(np.asarray(other_probs, dtype=np.float64), eps, None))
    s = a + b
    s -= s.max(axis=1, keepdims=True)
    e = np.exp(s)
    fused: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return fused


def merge_metrics(parts: list[dict[str, float]]) -> dict[str, float]:
    """Combine :func:`classification_metrics` of disjoint batches into the metrics of their union.

    Every metric is a mean over points, so the union's is the ``n``-weighted mean of the batches'.
    """
    n = sum(int(p["n"]) for p in parts)
    if n == 0:
        raise ValueError("no points to evaluate")
    keys = [k for k in parts[0] if k != "n"]
    out = {k: float(sum(p[k] * p["n"] for p in parts) / n) for k in keys}
    out["n"] = n
    return out
