"""Peak memory and time of writing a global map through GridWriter (rows → temporary GTiff → COG copy).

The map is a smooth synthetic field (like a model's output: compressible), written in the blocks of rows
`geoenc map` uses (64 MB of output cells each), so the figure is the writer's own cost, not a model's.

    python benchmarks/cog_memory.py --cell-deg 0.05 --bands 1
    PYTHONPATH=/path/to/other/tree python benchmarks/cog_memory.py …   # the same on another version

Prints one line: cells, file size, peak RSS (ru_maxrss) and seconds, and whether rio-cogeo calls it a COG.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell-deg", type=float, default=0.1)
    ap.add_argument("--bands", type=int, default=1)
    args = ap.parse_args()

    from geoenc.maps.streaming import GridWriter, make_grid
    from geoenc.workflows.map import rows_per_block

    grid = make_grid(None, args.cell_deg, args.bands)
    rows = rows_per_block(grid, args.bands)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as d:
        dest = Path(d) / "map.tif"
        t0 = time.perf_counter()
        with GridWriter(dest, grid, [f"b{i}" for i in range(args.bands)], nodata=-9999.0) as w:
            for row0 in range(0, grid.height, rows):
                n = min(rows, grid.height - row0)
                ll = grid.row_centres(row0, n)
                field = (np.sin(np.radians(ll[:, 0]) * 3) * np.cos(np.radians(ll[:, 1]) * 2)).astype(np.float32)
                block = np.broadcast_to(field.reshape(1, n, grid.width), (args.bands, n, grid.width))
                w.write_rows(row0, np.ascontiguousarray(block))
        seconds = time.perf_counter() - t0
        size = dest.stat().st_size
        try:
            from rio_cogeo.cogeo import cog_validate

            valid = cog_validate(str(dest), quiet=True)[0]
        except ImportError:
            valid = None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{args.cell_deg}° global, {grid.width}×{grid.height}×{args.bands} = {grid.width * grid.height * args.bands:,}"
        f" cells ({grid.width * grid.height * args.bands * 4 / 1e6:,.0f} MB as float32): file {size / 1e6:,.1f} MB,"
        f" peak RSS {peak / 1024:,.0f} MB (before writing {before / 1024:,.0f} MB), {seconds:.1f} s, COG: {valid}"
    )


if __name__ == "__main__":
    main()
