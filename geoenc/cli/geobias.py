"""``geoenc geobias``: geo-bias scores of per-point predictions (SSI, Gi* hot spots, Moran's I, latitude bands)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from geoenc.cli import options as o
from geoenc.cli.progress import json_safe, note, progress_bar

RADIUS_KM = (
    318.55  # = geoenc.metrics.ssi.DEFAULT_RADIUS_KM rounded (0.05 rad); not imported: keeps `geoenc` startup light
)

PredsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="PREDS...",
        help="Prediction files (from `geoenc predict` with labels) or datasets (a folder or quoted glob of Parquet "
        "files); several = side-by-side comparison.",
    ),
]
Report = Annotated[
    str,
    o.option(
        "--output",
        "-o",
        metavar="PATH",
        help="Per-point report, GeoParquet (.parquet) or CSV; with several PREDS one file per input "
        "(report.<input>.parquet).",
        panel="Output",
    ),
]


def _f(x: float | None, digits: int = 3, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _rel_cell(s: dict[str, Any], name: str) -> str:
    """``+4.81 ± 0.31 (9.60)``: observed − random, the spread of the random level, the random level."""
    rel, sd, rnd = s[f"{name}_ssi_rel"], s[f"{name}_ssi_random_sd"], s[f"{name}_ssi_random"]
    return f"{_f(rel, 2, sign=True)} ± {_f(sd, 2)} ({_f(rnd, 2)})"


MODE_NOTE = {
    "exact": "exact permutation moments of S, no σ pad",
    "pygbs": "PyGBS's computation: its closed-form μ, σ + 1, great-circle 4-NN",
}


def _print_tables(summaries: list[dict[str, Any]], to_stderr: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=max(130, Console().width), stderr=to_stderr)
    modes = sorted({s["ssi_mode"] for s in summaries})
    t = Table(title=f"Geo-bias (SSI {'/'.join(modes)}: mean over low-performance centres, higher = less random)")
    for col in (
        "file",
        "points",
        "bad %",
        "SSI unmarked",
        "SSI marked",
        "at cap %",
        "Moran's I",
        "p",
        "hot 99/95/90",
        "cold 99/95/90",
    ):
        t.add_column(col, justify="left" if col == "file" else "right", no_wrap=col == "file")

    for s in summaries:
        b = s["gi_bins"]
        t.add_row(
            Path(s["file"]).name,
            f"{s['n_points']:,}",
            f"{100 * s['bad_rate']:.1f}",
            _f(s["unmarked_ssi"]),
            _f(s["marked_ssi"]),
            f"{100 * s['unmarked_saturated']:.0f}/{100 * s['marked_saturated']:.0f}",
            _f(s["moran_i"]),
            f"{s['moran_p']:.2g}",
            f"{b['3']}/{b['2']}/{b['1']}",
            f"{b['-3']}/{b['-2']}/{b['-1']}",
        )
    console.print(t)
    for mode in modes:
        presence = sorted({s["unmarked_presence"] for s in summaries if s["ssi_mode"] == mode})
        console.print(
            f"SSI mode {mode} ({MODE_NOTE[mode]}); unmarked presence: {'/'.join(presence)} points; "
            "at cap: % of centres whose unmarked/marked score sits at −log(1e-256) = 589.46"
        )
    rel = [s for s in summaries if "marked_ssi_rel" in s]
    if rel:
        perms = "/".join(str(n) for n in sorted({s["params"]["relative_permutations"] for s in rel}))
        rt = Table(
            title=f"Relative SSI: observed − mean of {perms} random permutations of the outcome at the same centres"
        )
        for col in ("file", "unmarked rel ± sd (random)", "marked rel ± sd (random)"):
            rt.add_column(col, justify="left" if col == "file" else "right", no_wrap=col == "file")
        for s in rel:
            rt.add_row(Path(s["file"]).name, _rel_cell(s, "unmarked"), _rel_cell(s, "marked"))
        console.print(rt)
    if len(summaries) == 1:
        bands = summaries[0]["latitude_bands"]
        metric = "accuracy" if "accuracy" in bands[0] else "mean_error"
        lt = Table(title="By latitude band")
        for col in ("latitude", "points", "bad %", metric.replace("_", " ")):
            lt.add_column(col, justify="right")
        for row in bands:
            bad = "–" if row["bad_rate"] is None else f"{100 * row['bad_rate']:.1f}"
            lt.add_row(row["band"], f"{row['n']:,}", bad, _f(row[metric], 4))
        console.print(lt)


@o.points_input
def geobias(
    preds: PredsArg,
    output: Report,
    points: o.PointsInput,
    value: Annotated[
        str | None,
        o.option(
            "--value", metavar="COLUMN", help="A 0/1 performance column (1 = good), e.g. hit@1 (default when present)."
        ),
    ] = None,
    error: Annotated[
        str | None,
        o.option(
            "--error",
            metavar="COLUMN",
            help="A continuous error column, e.g. abs_error (default without hit@1); needs --threshold.",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        o.option("--threshold", metavar="X", help="Low performance = error above this (in the error column's unit)."),
    ] = None,
    radius_km: Annotated[
        float,
        o.option(
            "--radius-km",
            metavar="KM",
            help="SSI neighbourhood radius (default 0.05 rad, as in the TorchSpatial results).",
        ),
    ] = RADIUS_KM,
    k: Annotated[int, o.option("--k", metavar="N", help="SSI neighbourhood: at most this many nearest points.")] = 400,
    gi_k: Annotated[int, o.option("--gi-k", metavar="N", help="Gi*: k nearest neighbours.")] = 8,
    moran_k: Annotated[int, o.option("--moran-k", metavar="N", help="Global Moran's I: k nearest neighbours.")] = 8,
    band_km: Annotated[
        float | None,
        o.option(
            "--band-km", metavar="KM", help="Gi*: distance-band weights of this radius instead of k nearest neighbours."
        ),
    ] = None,
    fdr: Annotated[bool, o.flag("--fdr", help="Gi* bins from Benjamini–Hochberg adjusted p-values.")] = False,
    centres: Annotated[
        str,
        o.option(
            "--ssi-centres",
            metavar="low|all",
            help="SSI at low-performance points (low, the paper's summary) or at every point (all).",
        ),
    ] = "low",
    ssi_mode: Annotated[
        str,
        o.option(
            "--ssi-mode",
            metavar="exact|pygbs",
            help="SSI definition: exact (exact permutation moments, no pad) or pygbs (PyGBS's computation).",
        ),
    ] = "exact",
    presence: Annotated[
        str | None,
        o.option(
            "--presence",
            metavar="low|all",
            help="Unmarked SSI presence points: the low-performance ones or every neighbourhood point "
            "(default: low with exact, all with pygbs).",
        ),
    ] = None,
    relative: Annotated[
        int,
        o.option(
            "--relative",
            metavar="N",
            help="Also the relative SSI: observed minus N random permutations of the outcome at the same centres.",
        ),
    ] = 0,
    baseline: Annotated[int | None, typer.Option("--baseline", hidden=True)] = None,
    seed: o.Seed = 0,
    jobs: Annotated[
        int | None,
        o.option(
            "--jobs",
            "-j",
            metavar="N",
            panel="Compute",
            help="Processes for SSI (default: --threads; -1 = all CPU cores); results do not depend on it.",
        ),
    ] = None,
    raster: Annotated[
        str | None,
        o.option(
            "--raster",
            metavar="PATH",
            help="Also write a GeoTIFF: mean Gi* z, low-performance rate and count per cell.",
            panel="Output",
        ),
    ] = None,
    cell_deg: Annotated[
        float, o.option("--cell-deg", metavar="DEG", help="Raster cell size in degrees.", panel="Output")
    ] = 1.0,
    png: Annotated[
        str | None,
        o.option("--png", metavar="PATH", help="Also write a PNG map of hot and cold spots.", panel="Output"),
    ] = None,
    as_json: Annotated[bool, o.flag("--json", help="Print the summary as JSON (one object per file).")] = False,
    overwrite: o.Overwrite = False,
    output_format: o.OutputFormat = None,
    engine: o.Engine = None,
    scheduler: o.Scheduler = None,
    quiet: o.Quiet = False,
) -> None:
    """Geo-bias of a model's per-point performance: SSI scores, Gi* hot spots, Moran's I, latitude bands.

    Low performance: hit@1 = 0, or an error above --threshold. Summary on stdout (table or --json),
    per-point scores in the report (ssi_unmarked, ssi_marked, gi_z, gi_p, gi_bin …). The SSI definition is
    chosen with --ssi-mode (exact by default; pygbs reproduces PyGBS) and recorded in every output.

    Example: geoenc geobias preds.parquet -o geobias.parquet --png hotspots.png
    """
    from geoenc.errors import UsageError
    from geoenc.threads import get_threads
    from geoenc.workflows.geobias import run_geobias

    if raster is None and cell_deg != 1.0:
        raise UsageError("--cell-deg needs --raster")
    if baseline is not None:
        raise UsageError(
            "--baseline was replaced by --relative N: random permutations of the outcome scored at the same "
            "centres (the old baseline moved the centres too)"
        )
    with o.open_engine(engine, scheduler, quiet) as mapper, progress_bar("SSI centres", quiet) as update:
        results = run_geobias(
            preds,
            output,
            value=value,
            error=error,
            threshold=threshold,
            radius_km=radius_km,
            k=k,
            gi_k=gi_k,
            moran_k=moran_k,
            band_km=band_km,
            fdr=fdr,
            centres=centres,
            ssi_mode=ssi_mode,
            unmarked_presence=presence,
            relative=relative,
            seed=seed,
            n_jobs=get_threads() if jobs is None else jobs,
            raster=raster,
            cell_deg=cell_deg,
            png=png,
            overwrite=overwrite,
            fmt=points.format,
            output_format=output_format,
            coord_options=points.coords,
            progress=lambda src, done, total: update(done, total, file=Path(src).name),
            log=lambda msg: note(msg, quiet),
            mapper=mapper,
        )
    summaries = [cast(dict[str, Any], json_safe(r.summary())) for r in results]
    to_stderr = output == "-"  # stdout carries the report: the summary goes to stderr
    if as_json:
        text = json.dumps(summaries, indent=2)
        typer.echo(text, err=to_stderr)
    else:
        _print_tables(summaries, to_stderr)
    written = ", ".join(str(p) for p in (output, raster, png) if p is not None)
    note(f"geobias: {len(results)} file(s) scored → {written}", quiet)
