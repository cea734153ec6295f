"""The one "stream points → compute → write" loop every point-to-point workflow runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geoenc.io.points import Points
from geoenc.io.read import PointStream
from geoenc.io.write import PointWriter

#: ``compute(batch)`` → the points to write (the batch, or a subset of it) and their new columns; None skips it
Compute = Callable[[Points], "tuple[Points, dict[str, Any]] | None"]
Progress = Callable[[int, "int | None"], None]


def stream_points(
    stream: PointStream, writer: PointWriter, compute: Compute, progress: Progress | None = None
) -> tuple[int, int]:
    """Run ``compute`` on every batch of ``stream`` and write what it returns; returns (rows read, rows written).

    Memory is bounded by one batch. ``progress(rows_read, total_rows_or_None)`` after each batch.
    """
    read = written = 0
    for batch in stream:
        out = compute(batch)
        read += len(batch)
        if out is not None:
            points, columns = out
            if len(points):
                writer.write(points.lon, points.lat, points.attrs, columns)
                written += len(points)
        if progress is not None:
            progress(read, stream.total_rows)
    return read, written
