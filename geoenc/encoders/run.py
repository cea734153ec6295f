"""Encoding arrays of points: the one entry point the Python API, ``geoenc encode`` and the workflows share.

:func:`encode_array` takes float64 lon/lat (so that the exact phases of :mod:`geoenc.encoders.phase` see the
coordinates as given) and writes ``(N, D)`` features into one preallocated array. On the CPU the encoder works
through it in cache-sized sub-blocks (:meth:`PositionEncoder.forward` with ``out=``); on a GPU it moves the
points over in large chunks and copies each result back into the same array.

On glibc the first call also raises two allocator thresholds for the whole process (:func:`tune_allocator`):
otherwise glibc hands every large buffer (an I/O batch's output, tens of MB) back to the kernel when it is
freed, and the next batch page-faults it in again — measured at 27–47 % of the CPU time of an encode. Set
``GEOENC_MALLOPT=0`` to leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import mmap
import os
import sys

import numpy as np
import torch

from geoenc.encoders.base import PositionEncoder
from geoenc.errors import ParameterError

#: glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: buffers below this come from the heap and freed memory up to this stays with the process
ALLOCATOR_THRESHOLD = 512 << 20
#: bytes of output per host↔device chunk on a GPU
DEVICE_CHUNK_BYTES = 256 << 20
#: outputs at least this large are mapped with MAP_POPULATE (Linux)
POPULATE_BYTES = 64 << 20
_NUMPY = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16}
_tuned: bool | None = None


def tune_allocator() -> bool:
    """Once per process, on Linux with glibc: keep freed memory below ``ALLOCATOR_THRESHOLD`` in the heap.

    Sets ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` with ``mallopt``; elsewhere (macOS, Windows, musl) or with
    ``GEOENC_MALLOPT=0`` it does nothing. Returns whether the thresholds are set. The cost: up to
    ``ALLOCATOR_THRESHOLD`` of freed memory may stay mapped in the process instead of going back to the system.
    """
    global _tuned
    if _tuned is None:
        _tuned = False
        if sys.platform.startswith("linux") and os.environ.get("GEOENC_MALLOPT", "1") != "0":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version"):
                    ok = libc.mallopt(_M_MMAP_THRESHOLD, ALLOCATOR_THRESHOLD)
                    ok &= libc.mallopt(_M_TRIM_THRESHOLD, ALLOCATOR_THRESHOLD)
                    _tuned = bool(ok)
            except OSError:  # no C library to load: nothing to tune
                pass
    return _tuned


def empty_array(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """A new C-contiguous array. On Linux one of at least ``POPULATE_BYTES`` is an anonymous mapping made with
    ``MAP_POPULATE``: the kernel provides all its pages in one call instead of one page fault per 4 KB on first
    write (measured 0.16 s instead of 0.4–0.5 s of CPU for 640 MB). It is an ordinary writable ndarray whose
    memory goes back to the system when the last view of it is gone."""
    dt = np.dtype(dtype)
    nbytes = math.prod(shape) * dt.itemsize
    if nbytes >= POPULATE_BYTES and hasattr(mmap, "MAP_POPULATE"):
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE
        try:
            return np.frombuffer(mmap.mmap(-1, nbytes, flags=flags), dtype=dt).reshape(shape)
        except OSError:  # no room for the mapping: let numpy try (and fail) the usual way
            pass
    return np.empty(shape, dtype=dt)


def _encoder_device(encoder: PositionEncoder) -> torch.device | None:
    for t in (*encoder.parameters(), *encoder.buffers()):
        return t.device
    return None


def encode_array(
    encoder: PositionEncoder,
    lonlat: np.ndarray,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    out: np.ndarray | None = None,
    block_rows: int | None = None,
) -> np.ndarray:
    """Encode ``lonlat``: ``(N, 2)`` lon/lat degrees → ``(N, D)`` numpy features (``out`` when given).

    Args:
        encoder: a position encoder; moved to ``device`` if its buffers are elsewhere (fitted already, if it
            needs a fit).
        lonlat: ``(N, 2)`` lon/lat in degrees; converted to float64 (the phases are computed from these values).
        device: where to encode (``"cpu"``, ``"cuda"``, a ``torch.device``).
        dtype: the features' dtype: float32 (default), float64 or float16.
        out: an ``(N, D)`` C-contiguous array of that dtype to write into (e.g. a slice of a larger output).
        block_rows: rows per CPU sub-block (default: :meth:`PositionEncoder.block_rows`).

    Runs under ``torch.inference_mode()``.
    """
    if dtype not in _NUMPY:
        raise ParameterError(f"dtype {dtype} is not supported here: use float32, float64 or float16")
    tune_allocator()
    pts = np.ascontiguousarray(lonlat, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ParameterError(f"expected an (N, 2) array of lon/lat degrees, got shape {pts.shape}")
    n, dim = pts.shape[0], encoder.embedding_dim
    if out is None:
        out = empty_array((n, dim), _NUMPY[dtype])
    elif out.shape != (n, dim) or out.dtype != _NUMPY[dtype] or not out.flags.c_contiguous:
        raise ParameterError(f"out must be a C-contiguous ({n}, {dim}) {np.dtype(_NUMPY[dtype])} array")
    dev = torch.device(device)
    if _encoder_device(encoder) not in (None, dev):
        encoder.to(dev)
    with torch.inference_mode():
        if dev.type == "cpu":
            encoder(torch.from_numpy(pts), out=torch.from_numpy(out), block_rows=block_rows)
            return out
        rows = max(1, DEVICE_CHUNK_BYTES // (out.itemsize * max(1, dim)))
        for i in range(0, n, rows):
            x = torch.from_numpy(pts[i : i + rows]).to(dev, non_blocking=True)
            y = encoder(x, dtype=dtype, block_rows=block_rows)
            torch.from_numpy(out[i : i + rows]).copy_(y)
    return out
