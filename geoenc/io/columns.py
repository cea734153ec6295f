"""Columns of a points table: find one by name (with a "did you mean"), its kind, lists of numbers → matrix.

Pure pyarrow/numpy; shared by training (labels, features) and prediction (labels, features, priors).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geoenc.errors import InputError, did_you_mean


def list_names(names: list[str], limit: int = 12) -> str:
    """``a, b, c`` — or the first ``limit`` and how many more (a 200,000-column header stays one short line)."""
    if not names:
        return "none"
    shown = ", ".join(str(n) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown} … and {len(names) - limit:,} more"


def arrow_kind(typ: Any) -> str:
    import pyarrow as pa

    if pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return "numeric"
    if pa.types.is_integer(typ):
        return "integer"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        return "list"
    return "categorical"


def column(points: Any, name: str, what: str) -> Any:
    cols = points.attrs.column_names
    if name not in cols:
        raise InputError(f"{what} column {name!r} not found{did_you_mean(name, cols)}; columns: {list_names(cols)}")
    return points.attrs.column(name).combine_chunks()


def list_column_to_matrix(col: Any, name: str) -> np.ndarray:
    """A pyarrow list column of numbers (all rows the same length, no nulls) → ``(N, F)`` float32."""
    import pyarrow as pa

    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type) or pa.types.is_fixed_size_list(col.type)):
        raise InputError(f"column {name!r} must be a list of numbers per row (got {col.type})")
    if col.null_count:
        raise InputError(f"column {name!r} has {col.null_count} empty rows: drop them")
    lengths = np.asarray(col.value_lengths()) if hasattr(col, "value_lengths") else None
    if lengths is not None and len(lengths) and (lengths != lengths[0]).any():
        raise InputError(f"column {name!r} has lists of different lengths: every row needs the same length")
    flat = np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    n = len(col)
    width = flat.size // n if n else 0
    if width == 0:
        raise InputError(f"column {name!r} has empty lists")
    return flat.reshape(n, width)
