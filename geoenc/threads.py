"""CPU threads: one setting for torch, SciPy's k-d tree workers, the geo-bias processes and scikit-learn.

``geoenc --threads N`` (or ``GEOENC_THREADS=N``) sets it; without it geoenc uses :func:`default_threads`.
Imports nothing heavy: torch's own setting is applied when torch is (or gets) imported.
"""

from __future__ import annotations

import os
import sys
import time

_chosen: dict[str, int | None] = {"threads": None}


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


#: the most threads geoenc takes by default (small nets gain nothing past a few)
MAX_DEFAULT = 8


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of the whole machine, from /proc/stat (Linux)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])


def busy_cpus(interval: float = 0.05) -> float | None:
    """How many CPUs other work keeps busy right now (sampled over ``interval`` seconds); None where unknown."""
    try:
        idle0, total0 = _cpu_times()
        time.sleep(interval)
        idle1, total1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    if total <= 0:
        return None
    return (1.0 - (idle1 - idle0) / total) * (os.cpu_count() or 1)


def default_threads() -> int:
    """The default when none is given: the CPUs that are free right now, at least 1, at most 8.

    Measured (docs/threads.md): on an idle 2-core machine 2 threads train the default model 1.27× faster than 1;
    beside two busy processes 2 threads are 1.9–2.9× slower than 1, because torch's threads wait for each other on
    cores they do not get. So geoenc takes the free cores: every CPU on an idle machine, one on a busy one.
    """
    cpus = cpu_count()
    busy = busy_cpus()
    free = cpus if busy is None else cpus - round(busy)
    return max(1, min(free, cpus, MAX_DEFAULT))


def set_threads(n: int | None) -> int:
    """Use ``n`` threads (None: :func:`default_threads`) everywhere geoenc computes; returns the number used."""
    threads = int(n) if n is not None else default_threads()
    _chosen["threads"] = threads
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
    else:  # read by torch (and OpenMP/BLAS libraries) when they load
        os.environ["OMP_NUM_THREADS"] = str(threads)
    return threads


def get_threads() -> int:
    """The thread count in use (what ``--threads`` set, else the default): for SciPy ``workers``, ``n_jobs`` …"""
    threads = _chosen["threads"]
    if threads is None:  # sampled once per process
        threads = _chosen["threads"] = default_threads()
    return threads
