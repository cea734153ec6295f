"""A PNG map of Gi* hot and cold spots: points coloured by bin over a light lon/lat frame (no basemap)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geoenc.io.atomic import AtomicFile

# ArcGIS-like palette: cold (blue) … not significant (grey) … hot (red)
BIN_STYLE = {
    -3: ("#2c7bb6", "cold spot, 99 %"),
    -2: ("#6baed6", "cold spot, 95 %"),
    -1: ("#c6dbef", "cold spot, 90 %"),
    0: ("#d9d9d9", "not significant"),
    1: ("#fcbba1", "hot spot, 90 %"),
    2: ("#fb6a4a", "hot spot, 95 %"),
    3: ("#cb181d", "hot spot, 99 %"),
}


def plot_hotspots(
    path: str | Path,
    lon: np.ndarray,
    lat: np.ndarray,
    bins: np.ndarray,
    title: str = "",
    overwrite: bool = False,
    dpi: int = 150,
) -> Path:
    """Write a PNG of the points coloured by Gi* bin (hot = many low-performance points nearby)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    lon = np.asarray(lon)
    lat = np.asarray(lat)
    bins = np.asarray(bins)
    fig = Figure(figsize=(12, 6.4))
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("#f4f6f8")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(-180, 181, 30))
    ax.set_yticks(np.arange(-90, 91, 30))
    ax.grid(True, color="white", linewidth=0.8)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    size = float(np.clip(20000.0 / max(lon.size, 1), 0.3, 12.0))
    handles = {}
    for b in (0, -1, 1, -2, 2, -3, 3):  # significant bins drawn last, on top
        sel = bins == b
        colour, label = BIN_STYLE[b]
        handles[b] = ax.scatter(
            lon[sel],
            lat[sel],
            s=size * (1.0 if b == 0 else 1.6),
            c=colour,
            linewidths=0,
            label=f"{label} ({int(sel.sum()):,})",
            rasterized=True,
        )
    legend_bins = (3, 2, 1, 0, -1, -2, -3)
    ax.legend(
        [handles[b] for b in legend_bins],
        [handles[b].get_label() for b in legend_bins],
        loc="lower left",
        fontsize=7,
        markerscale=max(1.0, 4.0 / size),
        framealpha=0.9,
        title="Getis-Ord Gi*",
        title_fontsize=8,
    )
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    atomic = AtomicFile(path, overwrite)
    try:
        fig.savefig(atomic.path, format="png", dpi=dpi)
    except BaseException:
        atomic.discard()
        raise
    atomic.commit()
    return Path(path)
