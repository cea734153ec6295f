"""GeoCLIP encode throughput: geoenc's imported model against the geoclip package's own forward pass.

Both run in the same process on the same points, in batches of ``--batch`` (default 8,192), float32, on the
CPU with ``--threads`` torch threads; the two are timed alternately, ``--repeats`` times each, and the median
is reported with the ratio, in wall-clock time and in CPU time (on a busy machine the CPU time says
more about the code than the wall clock). geoenc's side is what ``geoenc encode --model`` runs per batch
(``LoadedModel.embed``: lon/lat in, 512-d embedding out); the package's side is
``geoclip.model.location_encoder.LocationEncoder.forward`` on (lat, lon), imported without the package's image
dependencies (``pip install --no-deps geoclip==1.3.0``).

    python benchmarks/geoclip_speed.py --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=65_536)
    ap.add_argument("--batch", type=int, default=8_192)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", help="an imported geoclip model directory (default: import into a temporary one)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from geoenc.models import load_model
    from geoenc.pretrained import import_pretrained
    from tests.pretrained.geoclip_package import installed_version, location_encoder_class

    tmp = None
    model_dir = args.model
    if model_dir is None:
        tmp = tempfile.TemporaryDirectory()
        model_dir = import_pretrained("geoclip", Path(tmp.name) / "geoclip").path
    ours = load_model(model_dir)
    theirs = location_encoder_class()().eval()

    rng = np.random.default_rng(0)
    lonlat = np.column_stack(
        [rng.uniform(-180, 180, args.points), np.degrees(np.arcsin(rng.uniform(-1, 1, args.points)))]
    )
    ll = torch.as_tensor(lonlat, dtype=torch.float32)
    latlon = ll[:, [1, 0]].contiguous()

    def run_ours() -> torch.Tensor:
        return ours.embed(ll, batch_size=args.batch)

    def run_theirs() -> torch.Tensor:
        with torch.inference_mode():
            return torch.cat([theirs(latlon[i : i + args.batch]) for i in range(0, len(latlon), args.batch)])

    diff = float((run_ours() - run_theirs()).abs().max())  # also a warm-up of both
    times: dict[str, list[float]] = {"geoenc": [], "geoclip": []}
    cpu: dict[str, list[float]] = {"geoenc": [], "geoclip": []}
    for _ in range(args.repeats):
        for name, fn in (("geoenc", run_ours), ("geoclip", run_theirs)):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    rate = {k: args.points / statistics.median(v) for k, v in times.items()}
    cpu_rate = {k: args.points / statistics.median(v) for k, v in cpu.items()}
    load = os.getloadavg()
    print(
        f"# {args.points:,} points, batch {args.batch:,}, {args.threads} thread(s), torch {torch.__version__}, "
        f"geoclip {installed_version()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"max abs difference {diff:.2g}"
    )
    print(f"| implementation | points/s (median of {args.repeats}) | points per CPU-second | runs (s) |")
    print("|---|---|---|---|")
    for name in ("geoenc", "geoclip"):
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"| {name} | {rate[name]:,.0f} | {cpu_rate[name]:,.0f} | {runs} |")
    print(
        f"geoenc / geoclip throughput ratio: {rate['geoenc'] / rate['geoclip']:.2f} (wall), "
        f"{cpu_rate['geoenc'] / cpu_rate['geoclip']:.2f} (CPU time)"
    )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
