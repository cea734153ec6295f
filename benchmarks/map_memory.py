"""Peak memory of `geoenc map` (argmax over every class) against a bare forward + argmax of the same model.

The reference process loads the model and runs its forward pass and an argmax over the same grid cells in
batches, keeping only the class indices: the least any map of that model can cost. `geoenc map` must stay
within 1.5× of it (issue 16). Both run in fresh processes; peak RSS is each process's own maximum (GNU time).

    python benchmarks/map_memory.py --model MODEL_DIR --cell-deg 0.1
    python benchmarks/map_memory.py --cell-deg 0.1          # trains a country model on the sample data first

The model is a classifier (the sample data's 234 countries by default).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = r"""
import sys, numpy as np, torch
from geoenc.models import load_model
from geoenc.maps.streaming import make_grid
from geoenc.workflows.map import rows_per_block
torch.set_num_threads(int(sys.argv[3]))
model = load_model(sys.argv[1])
grid = make_grid(None, float(sys.argv[2]), 1)
rows = rows_per_block(grid, 1)
out = np.empty((grid.height, grid.width), np.uint16)
for row0 in range(0, grid.height, rows):
    n = min(rows, grid.height - row0)
    ll = torch.from_numpy(grid.row_centres(row0, n))
    idx = [b.argmax(1).numpy() for b in model.predict_batches(ll, None, 65536)]
    out[row0:row0 + n] = np.concatenate(idx).reshape(n, grid.width)
print(int(out.max()))
"""


def run(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one child process, measured by GNU time (its own maximum resident set)."""
    t0 = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{res.stderr[-2000:]}")
    return seconds, int(res.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a classification model folder (default: train one on the sample data)")
    ap.add_argument("--cell-deg", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    env_threads = {"OMP_NUM_THREADS": str(args.threads)}
    os.environ.update(env_threads)
    with tempfile.TemporaryDirectory() as d:
        model = args.model
        if model is None:
            model = str(Path(d) / "country")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "geoenc",
                    "--threads",
                    str(args.threads),
                    "train",
                    str(ROOT / "sample_data" / "cities_train.parquet"),
                    "--label",
                    "country",
                    "--epochs",
                    "2",
                    "-o",
                    model,
                    "--quiet",
                ],
                check=True,
            )
        bare_s, bare_mb = run([sys.executable, "-c", BARE, model, str(args.cell_deg), str(args.threads)])
        map_s, map_mb = run(
            [
                sys.executable,
                "-m",
                "geoenc",
                "--threads",
                str(args.threads),
                "map",
                model,
                "--argmax",
                "--cell-deg",
                str(args.cell_deg),
                "-o",
                str(Path(d) / "m.tif"),
                "--quiet",
            ]
        )
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {args.threads} thread(s), "
        f"{args.cell_deg}° global argmax map"
    )
    print(f"bare forward + argmax: peak RSS {bare_mb:,.0f} MiB, {bare_s:.1f} s")
    print(
        f"geoenc map:            peak RSS {map_mb:,.0f} MiB, {map_s:.1f} s  ({map_mb / bare_mb:.2f}× the bare forward)"
    )


if __name__ == "__main__":
    main()
