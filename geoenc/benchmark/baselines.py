"""Non-neural baselines for the benchmark table: kNN and random forest on 3-D unit vectors, and no location.

These are what a user would otherwise pick (scikit-learn on the points' unit-sphere coordinates, so that
distances respect the sphere and the antimeridian), and the class prior / mean target that ignores location.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from geoenc.metrics.spatial import lonlat_to_xyz

KNN_CANDIDATES = (1, 3, 5, 10, 20, 50)
BASELINES = ("knn", "random_forest", "no_location")


def _holdout(n: int, seed: int, fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    cut = max(1, round(n * fraction))
    return order[cut:], order[:cut]


def _pick_k(
    make: Callable[[int], Any],
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    score: Callable[[Any, np.ndarray, np.ndarray], float],
) -> int:
    """The kNN k with the best score on a seeded 20 % hold-out of the training points."""
    fit_idx, val_idx = _holdout(len(y), seed)
    best_k, best = KNN_CANDIDATES[0], -np.inf
    for k in KNN_CANDIDATES:
        if k > len(fit_idx):
            break
        model = make(k).fit(x[fit_idx], y[fit_idx])
        s = score(model, x[val_idx], y[val_idx])
        if s > best:
            best_k, best = k, s
    return best_k


def _align(proba: np.ndarray, model_classes: np.ndarray, n_classes: int) -> np.ndarray:
    """scikit-learn returns columns only for the classes it saw; put them at the class indices."""
    out = np.zeros((proba.shape[0], n_classes))
    out[:, model_classes.astype(int)] = proba
    return out


def fit_predict(
    name: str,
    task: str,
    train_lonlat: np.ndarray,
    train_y: np.ndarray,
    test_lonlat: np.ndarray,
    n_classes: int | None,
    seed: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Fit baseline ``name`` and predict the test points.

    Classification: ``y`` holds class indices; returns ``(N, n_classes)`` probabilities. Regression: returns
    ``(N,)`` predictions. The second value describes the fitted settings (e.g. the chosen k).
    """
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    xtr = lonlat_to_xyz(train_lonlat[:, 0], train_lonlat[:, 1])
    xte = lonlat_to_xyz(test_lonlat[:, 0], test_lonlat[:, 1])
    classify = task != "regression"
    if classify and n_classes is None:
        raise ValueError("fit_predict: a classification baseline needs n_classes")
    n_cls = int(n_classes or 0)
    if name == "no_location":
        if classify:
            prior = np.bincount(train_y, minlength=n_cls).astype(np.float64)
            return np.tile(prior / prior.sum(), (len(xte), 1)), {"predicts": "the training class frequencies"}
        return np.full(len(xte), float(np.mean(train_y))), {"predicts": "the training mean"}
    if name == "knn":
        make: Callable[[int], Any]  # k → an unfitted scikit-learn estimator
        score: Callable[[Any, np.ndarray, np.ndarray], float]  # (fitted model, x, y) → higher is better
        if classify:
            make = lambda k: KNeighborsClassifier(n_neighbors=k, weights="distance")  # noqa: E731
            score = lambda m, x, y: float(np.mean(m.predict(x) == y))  # noqa: E731
        else:
            make = lambda k: KNeighborsRegressor(n_neighbors=k, weights="distance")  # noqa: E731
            score = lambda m, x, y: -float(np.sqrt(np.mean((m.predict(x) - y) ** 2)))  # noqa: E731
        k = _pick_k(make, xtr, train_y, seed, score)
        model = make(k).fit(xtr, train_y)
        info = {"k": k, "weights": "distance"}
    elif name == "random_forest":
        cls = RandomForestClassifier if classify else RandomForestRegressor
        model = cls(n_estimators=200, random_state=seed, n_jobs=-1).fit(xtr, train_y)
        info = {"n_estimators": 200}
    else:
        raise ValueError(f"unknown baseline {name!r}")
    if classify:
        return _align(model.predict_proba(xte), model.classes_, n_cls), info
    predicted: np.ndarray = model.predict(xte)
    return predicted, info
