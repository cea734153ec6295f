"""The geo-bias report behind ``geoenc geobias``: SSI, Gi* hot spots, Moran's I and latitude bands, on arrays.

:func:`compute_geobias` takes coordinates and an outcome and returns a :class:`GeobiasResult` (per-point
columns and a summary); :func:`geoenc.workflows.geobias.run_geobias` reads prediction files and writes the
outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geoenc.errors import InputError, ParameterError
from geoenc.metrics.hotspots import DEFAULT_GI_K, HotspotResult, hotspots, hotspots_partitioned
from geoenc.metrics.moran import MoranResult, global_moran
from geoenc.metrics.outcome import Outcome
from geoenc.metrics.spatial import knn_matrix, knn_weights, lonlat_to_xyz
from geoenc.metrics.ssi import DEFAULT_K, DEFAULT_RADIUS_KM, SSIResult, ssi_scores

DEFAULT_MORAN_K = 8
LAT_EDGES = np.arange(-90, 91, 20)  # 9 bands of 20° (Rußwurm et al. 2024)


def latitude_bands(lat: np.ndarray, outcome: Outcome) -> list[dict]:
    """Per 20° latitude band: number of points, low-performance rate, and accuracy or mean error."""
    band = np.clip(np.floor((np.asarray(lat) + 90.0) / 20.0).astype(int), 0, 8)
    rows = []
    for b in range(9):
        sel = band == b
        row = {"band": f"{LAT_EDGES[b]}..{LAT_EDGES[b + 1]}", "n": int(sel.sum())}
        if sel.any():
            row["bad_rate"] = float(outcome.bad[sel].mean())
            if outcome.kind == "binary":
                row["accuracy"] = float(1.0 - outcome.gi_value[sel].mean())
            else:
                row["mean_error"] = float(outcome.gi_value[sel].mean())
        else:
            row["bad_rate"] = None
            row["accuracy" if outcome.kind == "binary" else "mean_error"] = None
        rows.append(row)
    return rows


@dataclass
class GeobiasResult:
    """Everything one prediction file gets: per-point scores and the summary."""

    source: str
    lon: np.ndarray
    lat: np.ndarray
    outcome: Outcome
    ssi: SSIResult
    hot: HotspotResult
    moran: MoranResult
    lat_bands: list[dict]
    params: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)

    def summary(self) -> dict:
        s = self.ssi.summary()
        return {
            "file": self.source,
            "n_points": int(self.lon.size),
            "outcome": self.outcome.description,
            "n_bad": int(self.outcome.bad.sum()),
            "bad_rate": float(self.outcome.bad.mean()),
            "unmarked_ssi": s["unmarked_ssi"],
            "marked_ssi": s["marked_ssi"],
            **self.baseline,
            "n_low_centres": s["n_low_centres"],
            "n_centres": s["n_centres"],
            "gi_bins": self.hot.counts(),
            "hot_spots": int((self.hot.bin > 0).sum()),
            "cold_spots": int((self.hot.bin < 0).sum()),
            "moran_i": self.moran.I,
            "moran_z": self.moran.z,
            "moran_p": self.moran.p,
            "latitude_bands": self.lat_bands,
            "params": self.params,
        }

    def columns(self) -> dict[str, np.ndarray]:
        cols = {
            "bad": self.outcome.bad,
            "ssi_unmarked": self.ssi.unmarked,
            "ssi_marked": self.ssi.marked,
            "ssi_neighbours": self.ssi.n_neighbours,
            "gi_z": self.hot.z,
            "gi_p": self.hot.p,
            "gi_bin": self.hot.bin,
        }
        if self.hot.q is not None:
            cols["gi_q"] = self.hot.q
        return cols


def check_params(radius_km: float, k: int, gi_k: int, band_km: float | None) -> None:
    """Refuse parameter values outside their range (a usage error, before any input is read)."""
    if not 0 < radius_km < 10_000:  # SSI needs r < π/2 rad ≈ 10,007 km
        raise ParameterError(f"--radius-km must be in (0, 10000), got {radius_km}")
    if not 2 <= k <= 100_000:
        raise ParameterError(f"--k must be between 2 and 100000, got {k}")
    if gi_k < 1:
        raise ParameterError(f"--gi-k must be at least 1, got {gi_k}")
    if band_km is not None and band_km <= 0:
        raise ParameterError(f"--band-km must be positive, got {band_km}")


def compute_geobias(
    lon: np.ndarray,
    lat: np.ndarray,
    outcome: Outcome,
    *,
    source: str = "",
    radius_km: float = DEFAULT_RADIUS_KM,
    k: int = DEFAULT_K,
    gi_k: int = DEFAULT_GI_K,
    band_km: float | None = None,
    fdr: bool = False,
    moran_k: int = DEFAULT_MORAN_K,
    centres: str = "low",
    unmarked_presence: str = "low",
    baseline: int = 0,
    seed: int = 0,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> GeobiasResult:
    """All geo-bias scores for one set of points (arrays in, results out; raises InputError/ParameterError).

    ``baseline`` > 0: also the SSI summaries of that many random permutations of the outcome over the same
    points (same accuracy, no geography in the errors); their mean is the level to compare SSI against.
    ``mapper`` (e.g. Dask workers, :mod:`geoenc.workflows.distributed`): SSI centres and the rows of the Gi*
    and Moran neighbour graphs are split into tasks; the numbers are those of the single-process run.
    """
    n = int(np.asarray(lon).size)
    check_params(radius_km, k, min(gi_k, moran_k), band_km)
    need = max(gi_k, moran_k) + 2
    if n < need:
        raise InputError(
            f"only {n} points: Gi* and Moran's I with k={max(gi_k, moran_k)} neighbours need at least "
            f"{need} (lower --gi-k)"
        )
    try:
        if mapper is None:
            hot = hotspots(lon, lat, outcome.gi_value, k=gi_k, band_km=band_km, fdr=fdr)
            moran = global_moran(outcome.gi_value, knn_weights(lonlat_to_xyz(lon, lat), moran_k))
        else:  # the neighbour graphs built in partitions of rows, as tasks
            hot, midx = hotspots_partitioned(
                lon, lat, outcome.gi_value, mapper, k=gi_k, band_km=band_km, fdr=fdr, moran_k=moran_k
            )
            assert midx is not None  # moran_k ≥ 1 was checked
            moran = global_moran(outcome.gi_value, knn_matrix(midx))
    except ValueError as exc:  # constant value
        raise InputError(f"{outcome.description}: {exc}") from None
    n_centres = int(outcome.bad.sum()) if centres == "low" else n
    ssi = ssi_scores(
        lon,
        lat,
        outcome.bad,
        radius_km=radius_km,
        k=k,
        centres=centres,
        unmarked_presence=unmarked_presence,
        n_jobs=n_jobs,
        progress=(lambda done: progress(done, n_centres)) if progress else None,
        mapper=mapper,
    )
    base = {}
    if baseline > 0:
        rng = np.random.default_rng(seed)
        runs = [
            ssi_scores(
                lon,
                lat,
                rng.permutation(outcome.bad),
                radius_km=radius_km,
                k=k,
                centres="low",
                unmarked_presence=unmarked_presence,
                n_jobs=n_jobs,
                mapper=mapper,
            ).summary()
            for _ in range(baseline)
        ]
        for key in ("unmarked_ssi", "marked_ssi"):
            vals = np.array([r[key] for r in runs])
            base[key + "_baseline"] = float(vals.mean())
            base[key + "_baseline_sd"] = float(vals.std(ddof=1)) if baseline > 1 else float("nan")
    params = {
        "radius_km": float(radius_km),
        "k": int(k),
        "k_used": int(min(k, n)),
        "gi_k": int(gi_k),
        "band_km": band_km,
        "fdr": bool(fdr),
        "moran_k": int(moran_k),
        "centres": centres,
        "unmarked_presence": unmarked_presence,
        "gi_weights": hot.weights,
        "baseline_permutations": int(baseline),
        "seed": int(seed),
    }
    return GeobiasResult(
        source=source,
        lon=np.asarray(lon),
        lat=np.asarray(lat),
        outcome=outcome,
        ssi=ssi,
        hot=hot,
        moran=moran,
        lat_bands=latitude_bands(lat, outcome),
        params=params,
        baseline=base,
    )
