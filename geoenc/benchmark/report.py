"""The benchmark's outputs: results.csv (one row per run), results.md (mean ± std per method) and a chart."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from geoenc.io.atomic import writing

CLASSIFICATION_COLUMNS = [("top1", "top-1"), ("top3", "top-3"), ("mrr", "MRR")]
REGRESSION_COLUMNS = [("r2", "R²"), ("mae", "MAE"), ("rmse", "RMSE")]
BIAS_COLUMNS = [("unmarked_ssi", "geo-bias (unmarked SSI)"), ("marked_ssi", "geo-bias (marked SSI)")]


def _columns(task: str) -> list[tuple[str, str]]:
    metric = REGRESSION_COLUMNS if task == "regression" else CLASSIFICATION_COLUMNS
    return metric + BIAS_COLUMNS + [("train_seconds", "train time (s)")]


def _fmt(values: list[float], percent: bool) -> str:
    vals = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], float)
    if vals.size == 0:
        return "–"
    scale = 100.0 if percent else 1.0
    mean = vals.mean() * scale
    if vals.size == 1:
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {vals.std(ddof=1) * scale:.2f}"


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method (encoders first, in the given order, then baselines), values as lists over seeds."""
    order: list[str] = []
    by: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["method"] not in by:
            order.append(r["method"])
            by[r["method"]] = []
        by[r["method"]].append(r)
    return [{"method": m, "kind": by[m][0]["kind"], "runs": by[m]} for m in order]


def write_csv(records: list[dict[str, Any]], path: Path) -> None:
    keys = [
        "method",
        "kind",
        "seed",
        "task",
        "top1",
        "top3",
        "mrr",
        "r2",
        "mae",
        "rmse",
        "log_loss",
        "unmarked_ssi",
        "marked_ssi",
        "n_low",
        "train_seconds",
        "n",
    ]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore")
    w.writeheader()
    for r in records:
        w.writerow({k: r.get(k) for k in keys})
    _atomic_text(path, buf.getvalue())


def markdown_table(records: list[dict[str, Any]]) -> str:
    if not records:
        return "(no runs)\n"
    task = records[0]["task"]
    cols = _columns(task)
    lines = ["| method | " + " | ".join(label for _, label in cols) + " | seeds |", "|---|" + "---|" * (len(cols) + 1)]
    for row in summarise(records):
        name = row["method"] + (" (baseline)" if row["kind"] == "baseline" else "")
        cells = [_fmt([r.get(k) for r in row["runs"]], percent=k in ("top1", "top3", "mrr")) for k, _ in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {len(row['runs'])} |")
    note = (
        "top-1/top-3/MRR in %, mean ± std over seeds; geo-bias = SSI averaged over low-performance test "
        "points (higher = errors more clustered in space)"
    )
    if task == "regression":
        note = "mean ± std over seeds; geo-bias = SSI averaged over points whose |error| exceeds the threshold"
    return "\n".join(lines) + "\n\n" + note + "\n"


def write_markdown(records: list[dict[str, Any]], path: Path, header: str = "") -> None:
    _atomic_text(path, (header + "\n\n" if header else "") + markdown_table(records))


def write_chart(records: list[dict[str, Any]], path: Path) -> None:
    """Two panels: the score (zoomed to where the methods differ) and the marked SSI geo-bias, mean ± std."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    rows = summarise(records)
    if not rows:
        return
    task = records[0]["task"]
    key, label = ("r2", "R²") if task == "regression" else ("top1", "top-1 accuracy (%)")
    scale = 1.0 if task == "regression" else 100.0
    span = 0.2 if task == "regression" else 20.0  # methods further than this below the best are cut off

    def stats(k: str, factor: float) -> tuple[np.ndarray, np.ndarray]:
        m, sd = [], []
        for row in rows:
            vals = np.asarray([r.get(k, np.nan) for r in row["runs"]], float) * factor
            m.append(np.nanmean(vals) if np.isfinite(vals).any() else np.nan)
            sd.append(np.nanstd(vals, ddof=1) if np.isfinite(vals).sum() > 1 else 0.0)
        return np.asarray(m), np.asarray(sd)

    names = [r["method"] for r in rows]
    colours = ["#9e9e9e" if r["kind"] == "baseline" else "#3b75af" for r in rows]
    means, stds = stats(key, scale)
    ssi, ssi_sd = stats("marked_ssi", 1.0)
    x = np.arange(len(names))
    fig = Figure(figsize=(max(7, 0.6 * len(names) + 2), 7.5), dpi=110)
    ax, bx = fig.subplots(2, 1, sharex=True)
    ax.bar(x, means, yerr=stds, color=colours, capsize=3)
    best = np.nanmax(means)
    close = means[np.isfinite(means) & (means >= best - span)]
    lo = float(np.nanmin(close)) if close.size else best
    pad = max(0.1 * (best - lo), 0.002 if task == "regression" else 0.2)
    ax.set_ylim(lo - pad, best + pad)
    for i, v in enumerate(means):  # bars cut off by the zoom carry their value
        if np.isfinite(v) and v < lo - pad:
            ax.annotate(f"{v:.3g} ↓", (i, lo - pad), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7)
    ax.set_ylabel(label)
    ax.set_title("geoenc benchmark: score (zoomed to the leaders) and geo-bias; grey = non-neural baselines")
    bx.bar(x, ssi, yerr=ssi_sd, color=colours, capsize=3)
    bx.set_ylabel("marked SSI (higher = errors more clustered)")
    bx.set_xticks(x, names, rotation=45, ha="right")
    fig.tight_layout()
    with writing(path, overwrite=True) as tmp:
        fig.savefig(tmp, format="png")


def _atomic_text(path: Path, text: str) -> None:
    with writing(path, overwrite=True) as tmp:
        tmp.write_text(text)
