"""The geo-bias report behind ``geoenc geobias``: SSI, Gi* hot spots, Moran's I, latitude bands, outputs.

:func:`compute_geobias` works on arrays; :func:`run_geobias` reads prediction files, computes and writes
the per-point report (GeoParquet), an optional hot-spot GeoTIFF and PNG, and returns the results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geoenc.errors import InputError, ParameterError, UsageError
from geoenc.metrics.hotspots import DEFAULT_GI_K, HotspotResult, hotspots
from geoenc.metrics.moran import MoranResult, global_moran
from geoenc.metrics.outcome import Outcome, choose_outcome
from geoenc.metrics.spatial import knn_weights, lonlat_to_xyz
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
) -> GeobiasResult:
    """All geo-bias scores for one set of points (arrays in, results out; raises InputError/ParameterError).

    ``baseline`` > 0: also the SSI summaries of that many random permutations of the outcome over the same
    points (same accuracy, no geography in the errors); their mean is the level to compare SSI against.
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
        hot = hotspots(lon, lat, outcome.gi_value, k=gi_k, band_km=band_km, fdr=fdr)
        moran = global_moran(outcome.gi_value, knn_weights(lonlat_to_xyz(lon, lat), moran_k))
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


def per_input_path(path: str | Path | None, source: str | Path, n_inputs: int) -> Path | None:
    """With several inputs, ``report.parquet`` becomes ``report.<input stem>.parquet`` (one per input)."""
    if path is None:
        return None
    path = Path(path)
    if n_inputs == 1:
        return path
    stem = Path(str(source)).name.split(".")[0] or "stdin"
    return path.with_name(f"{path.stem}.{stem}{path.suffix}")


def write_hotspot_raster(result: GeobiasResult, path: str | Path, cell_deg: float, overwrite: bool = False) -> Path:
    """GeoTIFF with bands gi_z_mean, bad_rate (local low-performance rate), count; NaN where empty."""
    from geoenc.io.geotiff import write_geotiff
    from geoenc.maps.grid import LonLatGrid

    grid = LonLatGrid.global_grid(cell_deg)
    agg = grid.aggregate(result.lon, result.lat, {"gi_z_mean": result.hot.z, "bad_rate": result.outcome.bad})
    names = ["gi_z_mean", "bad_rate", "count"]
    units = [None, "1", None]  # bad_rate is a fraction
    return write_geotiff(
        path, [agg[n] for n in names], names, transform=grid.transform, nodata=np.nan, overwrite=overwrite, units=units
    )


def run_geobias(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    value: str | None = None,
    error: str | None = None,
    threshold: float | None = None,
    radius_km: float = DEFAULT_RADIUS_KM,
    k: int = DEFAULT_K,
    gi_k: int = DEFAULT_GI_K,
    band_km: float | None = None,
    fdr: bool = False,
    centres: str = "low",
    unmarked_presence: str = "low",
    baseline: int = 0,
    seed: int = 0,
    n_jobs: int = 1,
    raster: str | Path | None = None,
    cell_deg: float = 1.0,
    png: str | Path | None = None,
    overwrite: bool = False,
    fmt: str | None = None,
    output_format: str | None = None,
    coord_options=None,
    progress: Callable[[str, int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[GeobiasResult]:
    """Read each prediction file, compute its geo-bias scores, then write all outputs (atomically).

    Nothing is written unless every input was read and scored; existing outputs are refused up front
    unless ``overwrite``.
    """
    import geoenc
    from geoenc.io import check_output, read_points, write_points
    from geoenc.io.remote import display_source
    from geoenc.io.write import resolve_output_format

    if not inputs:
        raise UsageError("give at least one prediction file")
    if str(output) == "-":
        raise UsageError("the geobias report needs a file name for -o (stdout carries the summary)")
    check_params(radius_km, k, gi_k, band_km)
    if baseline < 0:
        raise ParameterError(f"--baseline must be 0 or more permutations, got {baseline}")
    if centres not in ("low", "all"):
        raise UsageError(f"centres must be 'low' or 'all', got {centres!r}")
    if raster is not None and not 0 < cell_deg <= 180:
        raise ParameterError(f"--cell-deg must be in (0, 180], got {cell_deg}")
    n_in = len(inputs)
    if n_in > 1 and len({Path(str(s)).name.split(".")[0] for s in inputs}) < n_in:
        raise UsageError("with several inputs their file names must differ (outputs are named after them)")
    plans = []
    for src in inputs:
        outs = (per_input_path(output, src, n_in), per_input_path(raster, src, n_in), per_input_path(png, src, n_in))
        resolve_output_format(outs[0], output_format)  # an unknown report format is refused before any work
        for p in outs:
            if p is not None:
                check_output(p, overwrite)
        plans.append((src, outs))

    results = []
    for src, outs in plans:
        points = read_points(src, fmt, opts=coord_options)
        outcome = choose_outcome(points.attrs, value=value, error=error, threshold=threshold)
        if log:
            log(f"{src}: {len(points):,} points, {int(outcome.bad.sum()):,} low-performance by {outcome.description}")
        res = compute_geobias(
            points.lon,
            points.lat,
            outcome,
            source=display_source(src),  # a pre-signed URL's query string stays out of the report
            radius_km=radius_km,
            k=k,
            gi_k=gi_k,
            band_km=band_km,
            fdr=fdr,
            centres=centres,
            unmarked_presence=unmarked_presence,
            baseline=baseline,
            seed=seed,
            n_jobs=n_jobs,
            progress=(lambda d, t, s=str(src): progress(s, d, t)) if progress else None,
        )
        results.append((res, points, outs))

    for res, points, (out, tif, pic) in results:
        meta = {
            "command": "geobias",
            "geoenc_version": geoenc.__version__,
            "source": res.source,
            "outcome": res.outcome.description,
            "summary": {k2: v for k2, v in res.summary().items()},
        }
        write_points(
            out,
            points.lon,
            points.lat,
            points.attrs,
            res.columns(),
            fmt=output_format,
            metadata=meta,
            overwrite=overwrite,
        )
        if tif is not None:
            write_hotspot_raster(res, tif, cell_deg, overwrite=overwrite)
        if pic is not None:
            from geoenc.maps.plot import plot_hotspots

            s = res.summary()
            title = (
                f"{Path(res.source).name}: unmarked SSI {s['unmarked_ssi']:.3f}, marked SSI {s['marked_ssi']:.3f}, "
                f"Moran's I {s['moran_i']:.3f}  ({res.outcome.description})"
            )
            plot_hotspots(pic, res.lon, res.lat, res.hot.bin, title=title, overwrite=overwrite)
    return [r[0] for r in results]
