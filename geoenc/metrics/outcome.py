"""Which per-point performance value the geo-bias scores read, and what counts as low performance.

* a binary column (default ``hit@1``, as written by ``geoenc predict`` for classification): 1 = good,
  0 = bad (low performance). The Gi* value is the error indicator 1 − hit.
* a continuous error column (default ``abs_error``, as written for regression; or any column with
  ``--error``): bad = error > threshold. The threshold has no universal default (its unit is the unit of
  the column; for geolocation errors in km the usual levels are 1, 25, 200, 750, 2500 km for
  street … continent), so it must be given. The Gi* value is the error itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from geoenc.errors import InputError, UsageError, did_you_mean

DEFAULT_VALUE_COLUMNS = ("hit@1",)
DEFAULT_ERROR_COLUMNS = ("abs_error",)


@dataclass
class Outcome:
    """Per-point performance: ``bad`` (low performance), ``gi_value`` (high = bad) and a description."""

    bad: np.ndarray
    gi_value: np.ndarray
    column: str
    kind: str  # "binary" or "error"
    threshold: float | None = None

    @property
    def description(self) -> str:
        if self.kind == "binary":
            return f"{self.column} (bad = 0)"
        return f"{self.column} (bad = {self.column} > {self.threshold:g})"


def _column(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        raise InputError(
            f"no column {name!r} in the input{did_you_mean(name, table.column_names)}; "
            f"columns: {', '.join(table.column_names) or 'none'}"
        )
    col = table.column(name)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type)):
        raise InputError(f"column {name!r} is {col.type}, not numeric: give a numeric performance column")
    values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    if col.null_count or np.isnan(values).any():
        bad = int(np.flatnonzero(np.isnan(values))[0]) + 1 if np.isnan(values).any() else None
        where = f" (first at row {bad})" if bad is not None else ""
        raise InputError(f"column {name!r} has missing values{where}: drop or fill them first")
    return values


def choose_outcome(
    table: pa.Table, value: str | None = None, error: str | None = None, threshold: float | None = None
) -> Outcome:
    """Pick the performance column (see the module docstring) and classify every point as good or bad."""
    if value is not None and error is not None:
        raise UsageError("give either --value (a 0/1 column) or --error with --threshold, not both")
    if value is None and error is None:
        names = table.column_names
        value = next((c for c in DEFAULT_VALUE_COLUMNS if c in names), None)
        if value is None:
            error = next((c for c in DEFAULT_ERROR_COLUMNS if c in names), None)
        if value is None and error is None:
            raise InputError(
                "no performance column: expected hit@1 or abs_error (from `geoenc predict` with labels), "
                "or pass --value COL (0/1) or --error COL --threshold X"
            )
    if value is not None:
        v = _column(table, value)
        if not np.isin(v, (0.0, 1.0)).all():
            raise UsageError(
                f"--value column {value!r} is not 0/1: for a continuous error use --error {value} --threshold X"
            )
        out = Outcome(bad=v == 0.0, gi_value=1.0 - v, column=value, kind="binary")
    else:
        assert error is not None  # value is None here, so error was given or found above
        if threshold is None:
            raise UsageError(f"{error!r} is a continuous error: pass --threshold X (bad = {error} > X)")
        e = _column(table, error)
        out = Outcome(bad=e > threshold, gi_value=e, column=error, kind="error", threshold=float(threshold))
    if out.bad.all() or not out.bad.any():
        state = "bad" if out.bad.all() else "good"
        raise InputError(
            f"every point is {state} by {out.description}: geo-bias scores are undefined for a "
            "constant outcome" + (" (choose another --threshold)" if out.kind == "error" else "")
        )
    return out
