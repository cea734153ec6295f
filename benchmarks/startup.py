"""Start-up time of the `geoenc` command: --version, --help, methods and an argument error.

Each command runs REPEATS times in a fresh process; prints the median wall time and the median CPU time
(user + system of the child), with the load average, and the time of `python -c pass` and of
`python -c "import torch"` measured the same way as references.

    python benchmarks/startup.py --repeats 7
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "geoenc --version": ["--version"],
    "geoenc --help": ["--help"],
    "geoenc methods": ["methods"],
    "geoenc encode x.csv --bogus (usage error)": ["encode", "x.csv", "--bogus"],
}


def timed(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    exe = shutil.which("geoenc") or sys.executable
    prefix = [exe] if exe != sys.executable else [sys.executable, "-m", "geoenc"]
    rows = {
        "python -c pass (reference)": [sys.executable, "-c", "pass"],
        "python -c 'import torch' (reference)": [sys.executable, "-c", "import torch"],
    }
    rows.update({name: prefix + a for name, a in COMMANDS.items()})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.repeats} runs each")
    print("| command | median wall (s) | median CPU (s) |\n|---|---|---|")
    for name, argv in rows.items():
        timed(argv)  # warm the file cache
        runs = [timed(argv) for _ in range(args.repeats)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"| {name} | {wall:.3f} | {cpu:.3f} |")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
