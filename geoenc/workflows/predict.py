"""``geoenc predict`` / ``geoenc evaluate``: a model's per-point predictions and its scores, streamed."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoenc.errors import InputError
from geoenc.io import CoordOptions, PointWriter, open_points
from geoenc.io.points import Points
from geoenc.io.read import PointStream, Source
from geoenc.models import LoadedModel, load_model
from geoenc.models.predict import Predictor
from geoenc.provenance import provenance
from geoenc.workflows.stream import stream_points


@dataclass
class PredictResult:
    rows: int
    model: LoadedModel
    metrics: dict[str, Any] | None
    #: what :func:`geoenc.models.predict.merge_metric_parts` merges across the partitions of a dataset
    metric_parts: dict[str, Any] | None = None


def _load(model: str | os.PathLike[str] | LoadedModel, device: str) -> LoadedModel:
    from geoenc.device import resolve_device

    dev = resolve_device(device)
    return model.to(dev) if isinstance(model, LoadedModel) else load_model(model, dev)


def predict_file(
    model: str | os.PathLike[str] | LoadedModel,
    source: Source | PointStream,
    dest: str | Path,
    *,
    top: int = 3,
    prior: str | None = None,
    label: str | None = None,
    batch_size: int = 65_536,
    device: str = "auto",
    fmt: str | None = None,
    output_format: str | None = None,
    coord_opts: CoordOptions | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    metadata: dict[str, Any] | None = None,
    keep_metric_parts: bool = False,
) -> PredictResult:
    """Write every point with the model's predictions (and per-point scores where the label column is present).

    Columns: see :class:`geoenc.models.predict.Predictor`. The file's ``geoenc`` metadata records the model,
    its hash and, with labels, the metrics over all points (plus ``metadata``, when given, and with
    ``keep_metric_parts`` what a dataset's metrics are merged from). Streams: memory is
    bounded by ``batch_size``. A partitioned dataset goes through :func:`geoenc.workflows.dataset.predict_dataset`.
    """
    loaded = _load(model, device)
    predictor = Predictor(loaded, top=top, prior=prior, label=label, batch_size=batch_size)
    with PointWriter(dest, output_format, overwrite=overwrite, inputs=[source]) as writer:
        writer.metadata.update(
            provenance(
                "predict",
                model=str(model if not isinstance(model, LoadedModel) else model.path),
                model_hash=loaded.model_hash,
                method=loaded.encoder_name,
                params=loaded.encoder_params,
                net=loaded.net_name,
                task=loaded.task,
                prior=prior,
            )
        )
        writer.metadata.update(metadata or {})

        def compute(batch: Points) -> tuple[Points, dict[str, Any]]:
            return batch, predictor(batch)

        stream = source if isinstance(source, PointStream) else open_points(source, fmt, coord_opts, batch_size)
        rows, _ = stream_points(stream, writer, compute, progress)
        metrics = predictor.metrics()
        if metrics:
            writer.metadata["metrics"] = metrics
            if keep_metric_parts:
                writer.metadata["metric_parts"] = predictor.metric_parts()
    return PredictResult(rows, loaded, metrics, predictor.metric_parts())


def evaluate_file(
    model: str | os.PathLike[str] | LoadedModel,
    source: Source,
    *,
    prior: str | None = None,
    label: str | None = None,
    batch_size: int = 65_536,
    device: str = "auto",
    fmt: str | None = None,
    coord_opts: CoordOptions | None = None,
) -> dict[str, Any]:
    """Metrics of a model on a labelled points file: top-1/top-3/MRR (classification) or R²/MAE/RMSE."""
    loaded = _load(model, device)
    predictor = Predictor(loaded, top=1, prior=prior, label=label, batch_size=batch_size)
    name = label or loaded.label
    for batch in open_points(source, fmt, coord_opts, batch_rows=batch_size):
        if not name or name not in batch.attrs.column_names:
            cols = ", ".join(batch.attrs.column_names) or "none"
            raise InputError(f"label column {name!r} is not in the input (columns: {cols}); pass --label")
        predictor(batch)
    return predictor.metrics() or {}
