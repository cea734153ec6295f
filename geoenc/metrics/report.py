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
from geoenc.metrics.ssi import DEFAULT_K, DEFAULT_MODE, DEFAULT_RADIUS_KM, SSIResult, resolve_mode, ssi_scores

DEFAULT_MORAN_K = 8
LAT_EDGES = np.arange(-90, 91, 20)  # 9 bands of 20° (Rußwurm et al. 2024)


def latitude_bands(lat: np.ndarray, outcome: Outcome) -> list[dict[str, Any]]:
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
    lat_bands: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        s = self.ssi.summary()
        ssi = {"ssi_mode": s["mode"], "unmarked_presence": s["unmarked_presence"]}
        for name in ("unmarked", "marked"):
            ssi[f"{name}_ssi"] = s[f"{name}_ssi"]
            for tail in ("_rel", "_random", "_random_sd"):
                if f"{name}_ssi{tail}" in s:
                    ssi[f"{name}_ssi{tail}"] = s[f"{name}_ssi{tail}"]
            ssi[f"{name}_saturated"] = s[f"{name}_saturated"]
        return {
            "file": self.source,
            "n_points": int(self.lon.size),
            "outcome": self.outcome.description,
            "n_bad": int(self.outcome.bad.sum()),
            "bad_rate": float(self.outcome.bad.mean()),
            **ssi,
            "n_low_centres": s["n_low_centres"],
            "n_centres": s["n_centres"],
            "mean_neighbours": s["mean_neighbours"],
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
            **self._relative_columns(),
            "gi_z": self.hot.z,
            "gi_p": self.hot.p,
            "gi_bin": self.hot.bin,
        }
        if self.hot.q is not None:
            cols["gi_q"] = self.hot.q
        return cols

    def _relative_columns(self) -> dict[str, np.ndarray]:
        """Per centre: observed SSI minus its mean over the permutations (only with ``relative``)."""
        if not self.ssi.relative:
            return {}
        return {
            "ssi_unmarked_rel": self.ssi.unmarked - self.ssi.unmarked_random,
            "ssi_marked_rel": self.ssi.marked - self.ssi.marked_random,
        }


def check_params(radius_km: float, k: int, gi_k: int, band_km: float | None, moran_k: int = DEFAULT_MORAN_K) -> None:
    """Refuse parameter values outside their range (a usage error, before any input is read)."""
    if not 0 < radius_km < 10_000:  # SSI needs r < π/2 rad ≈ 10,007 km
        raise ParameterError(f"--radius-km must be in (0, 10000), got {radius_km}")
    if not 2 <= k <= 100_000:
        raise ParameterError(f"--k must be between 2 and 100000, got {k}")
    if gi_k < 1:
        raise ParameterError(f"--gi-k must be at least 1, got {gi_k}")
    if moran_k < 1:
        raise ParameterError(f"--moran-k must be at least 1, got {moran_k}")
    if band_km is not None and band_km <= 0:
        raise ParameterError(f"--band-km must be positive, got {band_km}")


def check_ssi_options(ssi_mode: str, unmarked_presence: str | None, relative: int, centres: str) -> None:
    """Refuse an unknown SSI mode, presence set or centre set, or a negative number of permutations."""
    try:
        resolve_mode(ssi_mode, unmarked_presence)
    except ValueError:
        if ssi_mode not in ("exact", "pygbs"):
            raise ParameterError(f"--ssi-mode must be exact or pygbs, got {ssi_mode!r}") from None
        raise ParameterError(f"--presence must be low or all, got {unmarked_presence!r}") from None
    if not isinstance(relative, (int, np.integer)) or relative < 0:
        raise ParameterError(f"--relative must be 0 or more permutations, got {relative}")
    if centres not in ("low", "all"):
        raise ParameterError(f"--ssi-centres must be low or all, got {centres!r}")


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
    ssi_mode: str = DEFAULT_MODE,
    unmarked_presence: str | None = None,
    relative: int = 0,
    seed: int = 0,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> GeobiasResult:
    """All geo-bias scores for one set of points (arrays in, results out; raises InputError/ParameterError).

    ``ssi_mode``: ``"exact"`` (exact permutation moments, no σ pad) or ``"pygbs"`` (PyGBS's computation);
    ``unmarked_presence``: ``"low"``/``"all"``, ``None`` = the mode's default (see :mod:`geoenc.metrics.ssi`).
    ``relative`` > 0: that many seeded permutations of the outcome scored at the same centres; the summary
    gets ``*_ssi_rel`` (observed minus the permutations' mean), ``*_ssi_random`` and ``*_ssi_random_sd``.
    ``mapper`` (e.g. Dask workers, :mod:`geoenc.workflows.distributed`): SSI centres and the rows of the Gi*
    and Moran neighbour graphs are split into tasks; the numbers are those of the single-process run.
    """
    n = int(np.asarray(lon).size)
    check_params(radius_km, k, gi_k, band_km, moran_k)
    check_ssi_options(ssi_mode, unmarked_presence, relative, centres)
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
        mode=ssi_mode,
        unmarked_presence=unmarked_presence,
        relative=relative,
        seed=seed,
        n_jobs=n_jobs,
        progress=(lambda done: progress(done, n_centres)) if progress else None,
        mapper=mapper,
    )
    params = {
        "radius_km": float(radius_km),
        "k": int(k),
        "k_used": int(min(k, n)),
        "gi_k": int(gi_k),
        "band_km": band_km,
        "fdr": bool(fdr),
        "moran_k": int(moran_k),
        "centres": centres,
        "ssi_mode": ssi.mode,
        "unmarked_presence": ssi.unmarked_presence,
        "relative_permutations": int(relative),
        "gi_weights": hot.weights,
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
    )
