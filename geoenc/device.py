"""The one parser for ``--device`` and ``--dtype`` (``auto|cpu|cuda|cuda:N``, ``float32|float64``).

:func:`parse_device` checks the words only (a config can be validated on a machine without a GPU);
:func:`resolve_device` also checks that the device exists. Both accept any letter case.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from geoenc.errors import ParameterError, UsageError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64")
#: mixed precision settings for training on CUDA (``auto`` = bf16 where supported)
AMP = ("auto", "bf16", "fp16", "off")
_CUDA = re.compile(r"cuda(?::(\d+))?")


def parse_device(name: str | None = "auto") -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` in canonical lower case; anything else is a UsageError."""
    low = (name or "auto").strip().lower()
    if low in ("auto", "cpu") or _CUDA.fullmatch(low):
        return low
    raise ParameterError(f"unknown device {name!r}: choose auto, cpu, cuda or cuda:N")


def resolve_device(name: str | None = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; a CUDA device that is not there is a usage error."""
    import torch

    low = parse_device(name)
    if low == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if low == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UsageError(f"--device {low} was asked for but no CUDA GPU is available: use --device cpu or auto")
    m = _CUDA.fullmatch(low)
    index = int(m.group(1)) if m and m.group(1) is not None else None
    if index is not None and index >= torch.cuda.device_count():
        raise UsageError(f"--device {low}: this machine has {torch.cuda.device_count()} CUDA GPU(s), numbered from 0")
    return torch.device(low)


def parse_dtype(name: str | None = "float32") -> str:
    low = (name or "float32").strip().lower()
    if low not in DTYPES:
        raise ParameterError(f"unknown dtype {name!r}: choose one of {', '.join(DTYPES)}")
    return low


def resolve_dtype(name: str | None = "float32") -> torch.dtype:
    import torch

    return {"float32": torch.float32, "float64": torch.float64}[parse_dtype(name)]


def parse_amp(name: str | None = "auto") -> str:
    low = (name or "auto").strip().lower()
    if low not in AMP:
        raise ParameterError(f"unknown --amp {name!r}: choose one of {', '.join(AMP)}")
    return low


def amp_dtype(device: torch.device, amp: str) -> torch.dtype | None:
    """The autocast dtype for training on ``device`` (None: full precision; AMP runs on CUDA only)."""
    import torch

    amp = parse_amp(amp)
    if device.type != "cuda" or amp == "off":
        return None
    return torch.float16 if amp == "fp16" else torch.bfloat16
