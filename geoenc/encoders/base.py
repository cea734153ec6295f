"""The contract every position encoder follows.

A position encoder maps ``(N, 2)`` longitude/latitude in **degrees** (WGS84) to ``(N, D)`` features.
It is a :class:`torch.nn.Module`: its output has the input's device and dtype, it is differentiable,
and whatever it learns or is fitted on (anchors, extents, random frequencies) lives in its state dict,
so it survives a save and a reload.

Encoders take their parameters as keyword arguments with type annotations and defaults; the registry
reads those signatures to parse ``-p key=value`` strings and to list the parameters in ``geoenc methods``.
Parameter values are checked in ``__init__`` with :func:`check_range` / :func:`check_choice`, which
raise :class:`~geoenc.errors.ParameterError` with the valid range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import torch
from torch import Tensor, nn

from geoenc.errors import ParameterError

#: seeds are 63-bit, what torch's generators take
MAX_SEED = 2**63 - 1
#: bytes of float32 output per CPU sub-block: the block's intermediates then stay in the L2 cache
BLOCK_BYTES = 1 << 20
MIN_BLOCK_ROWS = 256
#: points whose per-point inputs (grid digits, residuals …) are prepared at once on the CPU
PREPARE_ROWS = 1 << 16
_OUT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)

R = TypeVar("R")


class PositionEncoder(nn.Module):
    """Base class of all position encoders (PE in ``NN(PE(x))``)."""

    #: registry name, set by :func:`geoenc.encoders.registry.register`
    name: ClassVar[str] = ""
    #: human-readable output dimension, e.g. ``"5·S"``
    dim_formula: ClassVar[str] = ""
    #: one-line description for ``geoenc methods``
    summary: ClassVar[str] = ""
    #: True when the encoder must see data before it can encode (rbf anchors, tile extent)
    needs_fit: ClassVar[bool] = False
    #: True when the encoder has trainable parameters of its own (tile)
    learnable: ClassVar[bool] = False
    #: the default net that follows it in a location model
    default_net: ClassVar[str] = "ffn"
    #: one line per parameter for ``geoenc methods`` (name → text, units included)
    param_docs: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        super().__init__()
        self._params: dict[str, Any] = {}

    # -- the API -------------------------------------------------------------------------------
    @property
    def embedding_dim(self) -> int:
        """Output feature dimension D (what the net takes as its input size)."""
        raise NotImplementedError

    def forward(
        self,
        lonlat: Tensor,
        *,
        dtype: torch.dtype | None = None,
        out: Tensor | None = None,
        block_rows: int | None = None,
    ) -> Tensor:
        """Encode ``lonlat``: ``(N, 2)`` lon/lat degrees → ``(N, D)`` features on the input's device.

        Args:
            lonlat: ``(N, 2)`` lon/lat in degrees; integers become float32.
            dtype: output dtype (default: the input's). Phases are computed from the coordinates as given, so
                float64 input with ``dtype=torch.float32`` gives float32 features as faithful as float32 allows
                (the Python API and ``geoenc encode`` do this). float16/bfloat16 are computed in float32 and cast.
            out: an ``(N, D)`` tensor to write into (inference only; its dtype is the output dtype).
            block_rows: rows per sub-block without autograd (default: about 1 MB of output per block on the CPU,
                so that every intermediate stays in cache).
        """
        x = as_lonlat(lonlat)
        if torch.is_autocast_enabled(x.device.type):
            # the phases must not drop to bfloat16/float16 inside a matrix product: encode in full precision
            # (the net that follows still runs under autocast)
            with torch.autocast(x.device.type, enabled=False):
                return self.forward(x, dtype=dtype, out=out, block_rows=block_rows)
        if out is not None:
            dtype = out.dtype
        dtype = dtype or x.dtype
        if dtype not in _OUT_DTYPES:
            raise ParameterError(f"output dtype {dtype} is not supported: use float32, float64, float16 or bfloat16")
        work = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
        n, dim = x.shape[0], self.embedding_dim
        if out is not None and (tuple(out.shape) != (n, dim) or out.device != x.device):
            raise ParameterError(
                f"out must be an ({n}, {dim}) tensor on {x.device}, got {tuple(out.shape)} on {out.device}"
            )
        if self._needs_autograd(x):
            if out is not None:
                raise ParameterError("out= cannot be used while autograd records (use torch.no_grad())")
            res = self._emit(self._prepare(x, work), work, None)
            return res if res.dtype == dtype else res.to(dtype)
        dest = out if out is not None and out.dtype == work else torch.empty(n, dim, dtype=work, device=x.device)
        rows = block_rows or self.block_rows(x.device)
        if n <= rows:
            self._emit(self._prepare(x, work), work, dest)
        else:  # per-point inputs for a chunk of blocks at a time (bounded memory), then block by block
            chunk = max(rows, PREPARE_ROWS // rows * rows) if x.device.type == "cpu" else n
            for c in range(0, n, chunk):
                prep = self._prepare(x[c : c + chunk], work)
                for i in range(0, min(chunk, n - c), rows):
                    self._emit(tuple(t[i : i + rows] for t in prep), work, dest[c + i : c + i + rows])
        if dest.dtype == dtype:
            return dest
        if out is None:
            return dest.to(dtype)
        return out.copy_(dest)

    def block_rows(self, device: torch.device) -> int:
        """Rows per sub-block: about ``BLOCK_BYTES`` of output on the CPU (cache-sized), 256 MB on a GPU."""
        cpu = device.type == "cpu"
        rows = self.__dict__.get("_block_rows_cpu" if cpu else "_block_rows_gpu")
        if rows is None:
            budget = BLOCK_BYTES if cpu else 256 << 20
            rows = max(MIN_BLOCK_ROWS, budget // (4 * max(1, self.embedding_dim)))
            self.__dict__["_block_rows_cpu" if cpu else "_block_rows_gpu"] = rows
        return rows

    # -- what subclasses implement -------------------------------------------------------------------
    def _prepare(self, lonlat: Tensor, dtype: torch.dtype) -> tuple[Tensor, ...]:
        """Per-point inputs of :meth:`_emit`, each with N leading rows (sliced into blocks). Default: the input."""
        return (lonlat,)

    def _emit(self, prep: tuple[Tensor, ...], dtype: torch.dtype, out: Tensor | None) -> Tensor:
        """Features of one block in ``dtype`` (float32 or float64): written into ``out`` when given (no autograd),
        else returned as a new, differentiable tensor. Both ways must give the same values."""
        raise NotImplementedError

    def _cached(self, name: Any, build: Callable[[], R], *sources: Tensor) -> R:
        """A constant derived from ``sources`` (e.g. float32 tables on a device), built once per ``name`` (put the
        device and dtype in it) and rebuilt when a source changes (another tensor, or the same one modified in
        place, as ``load_state_dict`` does)."""
        cache = self.__dict__.setdefault("_derived_cache", {})
        key = tuple((t.data_ptr(), t._version, t.device) for t in sources)
        hit = cache.get(name)
        if hit is None or hit[0] != key:
            hit = (key, build())
            cache[name] = hit
        value: R = hit[1]
        return value

    def _needs_autograd(self, lonlat: Tensor) -> bool:
        return torch.is_grad_enabled() and (
            lonlat.requires_grad or (self.learnable and any(p.requires_grad for p in self.parameters()))
        )

    def fit(self, lonlat: Tensor, seed: int = 0) -> PositionEncoder:
        """Fit data-dependent state (anchors, extents) from training locations. Default: nothing."""
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The resolved parameters (JSON-serialisable), as saved in configs and provenance."""
        return dict(self._params)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._params.items())

    # -- helpers for subclasses -----------------------------------------------------------------
    def _remember(self, **params: Any) -> None:
        self._params.update(params)


def as_lonlat(lonlat: Tensor) -> Tensor:
    """Check the ``(N, 2)`` shape; integer input becomes the default float dtype (float32)."""
    if not isinstance(lonlat, Tensor):
        lonlat = torch.as_tensor(lonlat)
    if lonlat.ndim != 2 or lonlat.shape[-1] != 2:
        raise ParameterError(f"expected an (N, 2) tensor of lon/lat degrees, got shape {tuple(lonlat.shape)}")
    if not torch.is_floating_point(lonlat):
        lonlat = lonlat.to(torch.get_default_dtype())
    return lonlat


def split_lonlat(lonlat: Tensor) -> tuple[Tensor, Tensor]:
    """Check shape and return ``(lon, lat)`` in degrees as two ``(N,)`` floating tensors."""
    lonlat = as_lonlat(lonlat)
    return lonlat[:, 0], lonlat[:, 1]


def to_radians(lonlat: Tensor) -> tuple[Tensor, Tensor]:
    """``(lon, lat)`` in radians."""
    lon, lat = split_lonlat(lonlat)
    return torch.deg2rad(lon), torch.deg2rad(lat)


def check_range(
    name: str,
    value: float,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> None:
    """Raise ParameterError unless ``lo <= value <= hi`` (bounds optional, open when asked).

    A value that is not a real number (a string, a bool, None) is refused too.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"parameter {name}={value!r} is not a number")
    bad = (
        value is None
        or (isinstance(value, float) and not math.isfinite(value))
        or (lo is not None and (value <= lo if lo_open else value < lo))
        or (hi is not None and (value >= hi if hi_open else value > hi))
    )
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        rng = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        raise ParameterError(f"parameter {name}={value!r} is out of range: it must be in {rng}")


def check_int(name: str, value: int, lo: int | None = None, hi: int | None = None) -> None:
    """Raise ParameterError unless ``value`` is an ``int`` (not a bool) with ``lo <= value <= hi``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"parameter {name}={value!r} is not an integer")
    check_range(name, value, lo, hi)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise ParameterError unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(f"parameter {name}={value!r} is not valid: choose one of {', '.join(choices)}")


def geometric_frequencies(frequency_num: int, min_radius: float, max_radius: float) -> Tensor:
    """Frequencies ``f_s = 1 / r_s`` with ``r_s = r_min · (r_max / r_min)^(s/(S−1))``, s = 0…S−1 (float64).

    This is the scale schedule of Space2Vec (Mai et al., ICLR 2020) and Sphere2Vec (Mai et al., ISPRS 2023).
    With S = 1 the single scale is ``r_min``.
    """
    s = torch.arange(frequency_num, dtype=torch.float64)
    if frequency_num == 1:
        radii = torch.full((1,), float(min_radius), dtype=torch.float64)
    else:
        radii = min_radius * (max_radius / min_radius) ** (s / (frequency_num - 1))
    return 1.0 / radii


def cast_like(t: Tensor, like: Tensor) -> Tensor:
    """``t`` on ``like``'s device with ``like``'s dtype (no copy when already there)."""
    return t.to(device=like.device, dtype=like.dtype)
