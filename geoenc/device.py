"""Choosing the torch device and dtype from the user's words (``auto|cpu|cuda``, ``float32|float64``)."""

from __future__ import annotations

import torch

from geoenc.errors import UsageError

DEVICES = ("auto", "cpu", "cuda")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a usage error."""
    low = (name or "auto").strip().lower()
    if low == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if low == "cpu":
        return torch.device("cpu")
    if low.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for but no CUDA GPU is available: use --device cpu or auto")
        return torch.device(low)
    raise UsageError(f"unknown device {name!r}: choose one of {', '.join(DEVICES)}")


def resolve_dtype(name: str = "float32") -> torch.dtype:
    low = (name or "float32").strip().lower()
    if low not in DTYPES:
        raise UsageError(f"unknown dtype {name!r}: choose one of {', '.join(DTYPES)}")
    return DTYPES[low]
