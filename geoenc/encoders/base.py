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
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from geoenc.errors import ParameterError

#: seeds are 63-bit, what torch's generators take
MAX_SEED = 2**63 - 1


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

    def forward(self, lonlat: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

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


def check_radii(min_radius: float, max_radius: float) -> None:
    """Validate the scale range of a multi-scale encoder: ``0 < min_radius < max_radius``."""
    check_range("max_radius", max_radius, 0.0, None, lo_open=True)
    check_range("min_radius", min_radius, 0.0, max_radius, lo_open=True, hi_open=True)


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


def turns_to_radians(turns: Tensor) -> Tensor:
    """Angle ``2π·turns`` reduced to [−π, π] (exactly: a float minus its nearest integer is exact).

    Space2Vec's frequencies act on degrees, so its arguments reach ~2·10⁴ radians, where the CPU sine
    and cosine take a slower path (measured 1.3–2× the cost). Working in turns and dropping whole turns
    first keeps the result as accurate as the rounded argument allows and the trigonometry fast.
    ``round`` has a zero gradient, so the gradient is that of ``2π·turns``.
    """
    return (turns - torch.round(turns)) * (2.0 * math.pi)


def wants_grad(*tensors: Tensor) -> bool:
    """True when autograd records operations on any of ``tensors`` (then no ``out=`` fast paths)."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def cast_like(t: Tensor, like: Tensor) -> Tensor:
    """``t`` on ``like``'s device with ``like``'s dtype (no copy when already there)."""
    return t.to(device=like.device, dtype=like.dtype)
