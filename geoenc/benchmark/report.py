"""The benchmark's outputs: results.csv (one row per run), results.md (mean ± std per method) and a chart."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

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


def summarise(records: list[dict]) -> list[dict]:
    """One row per method (encoders first, in the given order, then baselines), values as lists over seeds."""
    order: list[str] = []
    by: dict[str, list[dict]] = {}
    for r in records:
        if r["method"] not in by:
            order.append(r["method"])
            by[r["method"]] = []
        by[r["method"]].append(r)
    return [{"method": m, "kind": by[m][0]["kind"], "runs": by[m]} for m in order]


def write_csv(records: list[dict], path: Path) -> None:
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


def markdown_table(records: list[dict]) -> str:
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


def write_markdown(records: list[dict], path: Path, header: str = "") -> None:
    _atomic_text(path, (header + "\n\n" if header else "") + markdown_table(records))


def write_chart(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summarise(records)
    if not rows:
        return
    task = records[0]["task"]
    key, label = ("r2", "R²") if task == "regression" else ("top1", "top-1 accuracy (%)")
    scale = 1.0 if task == "regression" else 100.0
    means, stds, names, colours = [], [], [], []
    for row in rows:
        vals = np.asarray([r.get(key, np.nan) for r in row["runs"]], float) * scale
        means.append(np.nanmean(vals))
        stds.append(np.nanstd(vals, ddof=1) if vals.size > 1 else 0.0)
        names.append(row["method"])
        colours.append("#9e9e9e" if row["kind"] == "baseline" else "#3b75af")
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(names) + 2), 4.5), dpi=110)
    ax.bar(range(len(names)), means, yerr=stds, color=colours, capsize=3)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_ylabel(label)
    lo = np.nanmin(means)
    ax.set_ylim(max(0.0, lo - 0.15 * (np.nanmax(means) - lo + 1e-9) - 1), None)
    ax.set_title("geoenc benchmark (grey: non-neural baselines)")
    fig.tight_layout()
    tmp = path.with_suffix(".part.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(text)
    os.replace(tmp, path)
