"""The in-memory unit every reader yields: coordinates plus the input's other columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa


@dataclass
class Points:
    """A batch of points: float64 ``lon``/``lat`` in degrees (WGS84) and the input's attribute columns.

    ``attrs`` holds every input column except the geometry and the coordinate columns the points were
    read from; ``offset`` is the 0-based index of the batch's first row in the whole input.
    """

    lon: np.ndarray
    lat: np.ndarray
    attrs: pa.Table
    offset: int = 0
    source_crs: str = "OGC:CRS84"
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    def lonlat(self) -> np.ndarray:
        """``(N, 2)`` float64 array of lon/lat degrees."""
        return np.column_stack((self.lon, self.lat))

    def slice(self, start: int, stop: int) -> Points:
        """Rows ``start:stop`` as a batch of their own (no copy of the attributes; ``offset`` follows)."""
        stop = min(stop, len(self))
        return Points(
            lon=self.lon[start:stop],
            lat=self.lat[start:stop],
            attrs=self.attrs.slice(start, max(0, stop - start)),
            offset=self.offset + start,
            source_crs=self.source_crs,
            meta=self.meta,
        )

    def batches(self, rows: int) -> list[Points]:
        """The points in batches of at most ``rows`` rows (one batch, possibly empty, when they fit)."""
        return [self.slice(i, i + rows) for i in range(0, max(len(self), 1), max(1, rows))]


def concat_points(parts: list[Points]) -> Points:
    """Join batches of one input back into a single :class:`Points`."""
    if not parts:
        raise ValueError("no batches to join")
    if len(parts) == 1:
        return parts[0]
    return Points(
        lon=np.concatenate([p.lon for p in parts]),
        lat=np.concatenate([p.lat for p in parts]),
        attrs=pa.concat_tables([p.attrs for p in parts], promote_options="permissive"),
        offset=parts[0].offset,
        source_crs=parts[0].source_crs,
        meta=parts[0].meta,
    )
