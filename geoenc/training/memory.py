"""Memory estimates made before a run starts, so sizes a user or a file sets are refused up front, with the
estimate and what to change, instead of a machine that swaps or a process the kernel kills.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from geoenc.errors import ParameterError

if TYPE_CHECKING:
    from torch import nn

#: share of the machine's physical memory a run may plan to use
BUDGET_SHARE = 0.8
#: bytes per parameter while training with AdamW: weights, gradients and the two moment estimates (float32)
TRAINING_BYTES_PER_PARAM = 16


def physical_memory() -> int | None:
    """Total physical memory in bytes (None where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def parameter_count(build: Callable[[], nn.Module]) -> int | None:
    """Parameters of the module ``build()`` makes, laid out on torch's meta device (no memory used).

    None when a part of the model cannot be built there (its own size checks then apply).
    """
    import torch

    try:
        with torch.device("meta"):
            module = build()
    except (NotImplementedError, RuntimeError):
        return None
    return sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())


def check_fits(estimate: float, what: str, advice: str, budget: float | None = None) -> None:
    """Refuse a run whose estimated memory is over the budget (80 % of this machine's memory)."""
    if budget is None:
        total = physical_memory()
        if total is None:
            return
        budget = BUDGET_SHARE * total
    if estimate > budget:
        raise ParameterError(
            f"{what} needs about {estimate / 2**30:,.1f} GiB, more than the {budget / 2**30:,.1f} GiB this machine "
            f"can give it: {advice}"
        )
