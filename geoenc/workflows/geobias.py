"""``geoenc geobias``: read prediction files, score their geo-bias, write the report, raster and picture.

The scores themselves are :func:`geoenc.metrics.report.compute_geobias` (arrays in, results out). Every output
of every input is checked before any work and written at the end through one :class:`~geoenc.io.atomic.Outputs`
group: the command writes all its outputs or none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geoenc.errors import ParameterError, UsageError
from geoenc.io import CoordOptions, Outputs, write_points
from geoenc.io.atomic import AtomicFile
from geoenc.io.dataset import read_points_or_dataset
from geoenc.io.remote import display_source
from geoenc.io.write import resolve_output_format
from geoenc.metrics.hotspots import DEFAULT_GI_K
from geoenc.metrics.outcome import choose_outcome
from geoenc.metrics.report import DEFAULT_MORAN_K, GeobiasResult, check_params, check_ssi_options, compute_geobias
from geoenc.metrics.ssi import DEFAULT_K, DEFAULT_MODE, DEFAULT_RADIUS_KM
from geoenc.provenance import provenance


def per_input_path(path: str | Path | None, source: str | Path, n_inputs: int) -> Path | None:
    """With several inputs, ``report.parquet`` becomes ``report.<input stem>.parquet`` (one per input)."""
    if path is None:
        return None
    path = Path(path)
    if n_inputs == 1:
        return path
    stem = Path(str(source)).name.split(".")[0] or "stdin"
    return path.with_name(f"{path.stem}.{stem}{path.suffix}")


def _per_file(progress: Callable[[str, int, int], None] | None, src: str) -> Callable[[int, int], None] | None:
    """``progress(src, done, total)`` as the ``progress(done, total)`` of one file."""
    if progress is None:
        return None
    report = progress

    def update(done: int, total: int) -> None:
        report(src, done, total)

    return update


def write_hotspot_raster(
    result: GeobiasResult, path: str | Path | AtomicFile, cell_deg: float, overwrite: bool = False
) -> Path:
    """GeoTIFF with bands gi_z_mean, bad_rate (local low-performance rate), count; NaN where empty."""
    from geoenc.io.geotiff import write_geotiff
    from geoenc.maps.grid import LonLatGrid

    grid = LonLatGrid.global_grid(cell_deg)
    agg = grid.aggregate(result.lon, result.lat, {"gi_z_mean": result.hot.z, "bad_rate": result.outcome.bad})
    names = ["gi_z_mean", "bad_rate", "count"]
    units = [None, "1", None]  # bad_rate is a fraction
    return write_geotiff(
        path,
        [agg[n] for n in names],
        names,
        transform=grid.transform,
        nodata=np.nan,
        overwrite=overwrite,
        units=units,
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
    moran_k: int = DEFAULT_MORAN_K,
    band_km: float | None = None,
    fdr: bool = False,
    centres: str = "low",
    ssi_mode: str = DEFAULT_MODE,
    unmarked_presence: str | None = None,
    relative: int = 0,
    seed: int = 0,
    n_jobs: int = 1,
    raster: str | Path | None = None,
    cell_deg: float = 1.0,
    png: str | Path | None = None,
    overwrite: bool = False,
    fmt: str | None = None,
    output_format: str | None = None,
    coord_options: CoordOptions | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> list[GeobiasResult]:
    """Read each prediction file, score its geo-bias, then write all outputs together.

    ``output`` is the per-point report (GeoParquet or CSV; ``-`` for stdout with a single input), ``raster`` a
    GeoTIFF of mean Gi* z, low-performance rate and count per ``cell_deg`` cell, ``png`` a hot-spot picture.
    With several inputs each output gets the input's name (``report.<input>.parquet``). Every output is
    checked before any input is read, and nothing is written unless every input was read and scored.
    An input may be a dataset (a folder or glob of Parquet files: its points together). ``mapper`` (Dask,
    :mod:`geoenc.workflows.distributed`) splits the SSI centres and the neighbour graphs into tasks.
    ``ssi_mode``, ``unmarked_presence``, ``relative`` and ``seed``: see
    :func:`~geoenc.metrics.report.compute_geobias`.
    """
    if not inputs:
        raise UsageError("give at least one prediction file")
    check_params(radius_km, k, gi_k, band_km, moran_k)
    check_ssi_options(ssi_mode, unmarked_presence, relative, centres)
    if raster is not None:
        check_cell_deg(cell_deg)
    n_in = len(inputs)
    if n_in > 1 and str(output) == "-":
        raise UsageError("with several inputs the reports need a file name for -o, not stdout")
    if n_in > 1 and len({Path(str(s)).name.split(".")[0] for s in inputs}) < n_in:
        raise UsageError("with several inputs their file names must differ (outputs are named after them)")
    with Outputs(overwrite, inputs=inputs) as outputs:
        plans = []
        for src in inputs:
            report = per_input_path(output, src, n_in)
            assert report is not None  # output is never None
            resolve_output_format(report, output_format)  # an unknown report format is refused before any work
            tif_path, pic_path = per_input_path(raster, src, n_in), per_input_path(png, src, n_in)
            plans.append(
                (
                    src,
                    outputs.file(report) if str(report) != "-" else "-",
                    outputs.file(tif_path) if tif_path is not None else None,
                    outputs.file(pic_path) if pic_path is not None else None,
                )
            )
        results = []
        for src, out, tif, pic in plans:
            points = read_points_or_dataset(src, fmt, coord_options)
            outcome = choose_outcome(points.attrs, value=value, error=error, threshold=threshold)
            if log:
                log(
                    f"{src}: {len(points):,} points, {int(outcome.bad.sum()):,} low-performance by "
                    f"{outcome.description}"
                )
            res = compute_geobias(
                points.lon,
                points.lat,
                outcome,
                source=display_source(src),  # a signed URL's query string stays out of the report
                radius_km=radius_km,
                k=k,
                gi_k=gi_k,
                moran_k=moran_k,
                band_km=band_km,
                fdr=fdr,
                centres=centres,
                ssi_mode=ssi_mode,
                unmarked_presence=unmarked_presence,
                relative=relative,
                seed=seed,
                n_jobs=n_jobs,
                progress=_per_file(progress, str(src)),
                mapper=mapper,
            )
            meta = provenance("geobias", source=res.source, outcome=res.outcome.description, summary=res.summary())
            write_points(out, points.lon, points.lat, points.attrs, res.columns(), fmt=output_format, metadata=meta)
            if tif is not None:
                write_hotspot_raster(res, tif, cell_deg)
            if pic is not None:
                from geoenc.maps.plot import plot_hotspots

                sm = res.summary()
                title = (
                    f"{Path(res.source).name}: SSI ({sm['ssi_mode']}) unmarked {sm['unmarked_ssi']:.3f}, marked "
                    f"{sm['marked_ssi']:.3f}, Moran's I {sm['moran_i']:.3f}  ({res.outcome.description})"
                )
                plot_hotspots(pic, res.lon, res.lat, res.hot.bin, title=title)
            results.append(res)
    return results


#: the hot-spot raster covers the globe: refuse cell sizes whose grid would not fit in memory
MAX_RASTER_CELLS = 500_000_000


def check_cell_deg(cell_deg: float) -> None:
    """Refuse a raster cell size outside (0, 180] degrees or one whose global grid is too large."""
    import math

    if not (isinstance(cell_deg, (int, float)) and math.isfinite(cell_deg) and 0 < cell_deg <= 180):
        raise ParameterError(f"--cell-deg must be in (0, 180] degrees, got {cell_deg}")
    cells = math.ceil(180 / cell_deg) * math.ceil(360 / cell_deg)
    if cells > MAX_RASTER_CELLS:
        raise ParameterError(
            f"--cell-deg {cell_deg} makes a global raster of {cells:,.0f} cells (over {MAX_RASTER_CELLS:,}): "
            "use a larger cell size, e.g. --cell-deg 0.05"
        )
