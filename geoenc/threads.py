"""CPU threads: one setting for torch, SciPy's k-d tree workers, the geo-bias processes and scikit-learn.

``geoenc --threads N`` (or ``GEOENC_THREADS=N``) sets it; without it geoenc uses :func:`default_threads`.
Imports nothing heavy: torch's own setting is applied when torch is (or gets) imported.
"""

from __future__ import annotations

import os
import sys

_chosen: dict[str, int | None] = {"threads": None}


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """The default when none is given: every available CPU, at most 8 (see docs/threads.md for the figures)."""
    return min(cpu_count(), 8)


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
    return threads if threads is not None else default_threads()
