"""``geoenc encode``/``predict`` on a partitioned dataset: one output file per input partition, resumable.

The partitions are jobs for a mapper (:mod:`geoenc.workflows.distributed`): run one after the other in this
process (``--engine local``) or as one Dask task each (``--engine dask``); both call the same per-partition
functions and write the same bytes. The encoder or model is built (and fitted) once here and shared with the
tasks. Each output is written atomically and records which input partition and settings it holds
(:mod:`geoenc.io.dataset`), so a re-run — after Ctrl-C, a crash or a lost worker — does only the partitions
whose output is missing. A partition that cannot be read is named at the end; the others are still written.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geoenc.errors import GeoencError, UsageError
from geoenc.io import CoordOptions, PointStream, PointWriter, open_points
from geoenc.io.dataset import (
    MARKER_KEY,
    Dataset,
    check_output_folder,
    check_schemas,
    discover,
    output_path,
    plan_outputs,
    remove_dataset_metadata,
    remove_stale_temporaries,
    settings_hash,
    write_dataset_metadata,
)
from geoenc.provenance import provenance
from geoenc.workflows.distributed import Mapper, TaskFailure, local_mapper
from geoenc.workflows.encode import Embedder, write_embeddings


@dataclass(frozen=True)
class PartitionJob:
    """One partition to do: where it is read from, where its output goes, and the marker the output records."""

    index: int
    source: str
    dest: str
    marker: dict[str, Any]
    #: a chunk of a big file: its row groups [start, stop) and the rows before them
    row_groups: tuple[int, int] | None = None
    first_row: int = 0

    def open(self, coords: CoordOptions, batch_rows: int) -> PointStream:
        """The partition's points (only its row groups, for a chunk of a big file)."""
        stream = open_points(self.source, "parquet", coords, batch_rows=batch_rows)
        if self.row_groups is not None:
            stream.row_groups = list(range(*self.row_groups))
            stream.first_row = self.first_row
        return stream


@dataclass
class PartitionDone:
    index: int
    rows: int = 0
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class DatasetResult:
    """What a dataset run did: partitions written now, skipped (already complete) and failed; rows written now."""

    out_dir: str
    partitions: int
    written: int
    skipped: int
    rows: int
    failed: list[tuple[str, str]] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    metadata_files: list[str] = field(default_factory=list)
    label: str = ""
    dim: int = 0


class PartitionsFailed(GeoencError):
    """Some partitions could not be processed (unreadable, or their task kept failing); the others were written
    (``result`` says which). Exit code 1."""

    def __init__(self, message: str, result: DatasetResult) -> None:
        super().__init__(message)
        self.result = result


def _guarded(task: Callable[[Any, PartitionJob], PartitionDone], shared: Any, job: PartitionJob) -> PartitionDone:
    """A partition's data problem (a corrupt file, a bad coordinate) is its result, not a reason to retry."""
    try:
        return task(shared, job)
    except GeoencError as exc:
        return PartitionDone(job.index, error=str(exc))


def run_partitions(
    task: Callable[[Any, PartitionJob], PartitionDone],
    shared: Any,
    dataset: Dataset,
    out_dir: str | os.PathLike[str],
    settings: str,
    *,
    overwrite: bool = False,
    mapper: Mapper | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    log: Callable[[str], None] | None = None,
    summary: Callable[[list[Path]], dict[str, Any]] | None = None,
) -> DatasetResult:
    """Do every partition whose output is missing (all with ``overwrite``), through ``mapper``.

    ``task(shared, job)`` writes one partition. When every partition is complete the dataset-level metadata
    files are written (``summary(files)`` adds entries to their ``geoenc`` record); when some failed, a
    :class:`PartitionsFailed` names the first and the others stay written.
    """
    check_output_folder(out_dir, dataset)
    _, broken = check_schemas(dataset)
    out = Path(out_dir)
    todo, done = plan_outputs(out, dataset, settings, overwrite)
    out.mkdir(exist_ok=True)
    remove_stale_temporaries(out)
    if todo:
        remove_dataset_metadata(out)
    if done and log:
        log(f"{len(done)} of {len(dataset.partitions)} partitions are already complete in {out}: skipping them")
    failed: list[tuple[str, str]] = []
    jobs = []
    for i in todo:
        part = dataset.partitions[i]
        if part.path in broken:
            failed.append((part.path, broken[part.path]))
            continue
        dest = output_path(out, part)
        dest.parent.mkdir(parents=True, exist_ok=True)
        jobs.append(PartitionJob(i, part.path, str(dest), part.marker(settings), part.row_groups, part.first_row))
    rows = written = 0
    total = len(jobs)
    if progress:
        progress(0, total)
    run = mapper or local_mapper
    for n, (k, value) in enumerate(run(functools.partial(_guarded, task), shared, jobs, keep_going=True), 1):
        job = jobs[k]
        if isinstance(value, TaskFailure):
            failed.append((job.source, f"partition {job.source!r}: {value.message}"))
        elif value.error is not None:
            failed.append((job.source, value.error))
        else:
            rows += value.rows
            written += 1
        if progress:
            progress(n, total)
    remove_stale_temporaries(out)  # every task has ended: temporaries left are those of killed attempts
    result = DatasetResult(str(out), len(dataset.partitions), written, len(done), rows, failed)
    if failed:
        others = len(dataset.partitions) - len(failed)
        raise PartitionsFailed(
            f"{len(failed)} of {len(dataset.partitions)} partitions failed ({failed[0][1]}); the other {others} are "
            f"complete in {str(out)!r}: fix the input and rerun to do only the missing ones",
            result,
        )
    files = [output_path(out, p) for p in dataset.partitions]
    extra = summary(files) if summary else {}
    result.metrics = extra.get("metrics")
    result.metadata_files = write_dataset_metadata(out, files, extra)
    return result


# -- encode -------------------------------------------------------------------------------------------------


@dataclass
class _EncodeShared:
    embedder: Embedder
    layout: str
    coords: CoordOptions


def _encode_partition(shared: _EncodeShared, job: PartitionJob) -> PartitionDone:
    emb = shared.embedder
    with PointWriter(job.dest, "parquet", overwrite=True, layout=shared.layout, inputs=[job.source]) as writer:
        writer.metadata[MARKER_KEY] = job.marker
        stream = job.open(shared.coords, emb.batch_size)
        rows = write_embeddings(emb, stream, writer)
    return PartitionDone(job.index, rows)


def _coords_dict(coords: CoordOptions | None) -> dict[str, Any]:
    return asdict(coords) if coords is not None else {}


def _prepare(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], fmt: str | None) -> Dataset:
    if fmt is not None and fmt.strip().lower() not in ("parquet", "geoparquet"):
        raise UsageError(f"a dataset is made of Parquet files: leave out --format {fmt}")
    dataset = discover(source)
    check_output_folder(out_dir, dataset)
    return dataset


def encode_dataset(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    method: str | None = None,
    params: dict[str, Any] | None = None,
    *,
    model: str | os.PathLike[str] | None = None,
    fmt: str | None = None,
    coord_opts: CoordOptions | None = None,
    layout: str = "list",
    batch_size: int = 65_536,
    device: str = "auto",
    dtype: str = "float32",
    seed: int = 0,
    overwrite: bool = False,
    mapper: Mapper | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> DatasetResult:
    """Encode every partition of a dataset (folder, glob, hive tree of Parquet files) into ``out_dir``.

    One output file per partition (same relative path), with the embeddings :func:`encode_file
    <geoenc.workflows.encode.encode_file>` writes; an encoder fitted on data (rbf) is fitted once on every
    point of the dataset. ``mapper``: None runs here, a :class:`~geoenc.workflows.distributed.DaskMapper` on
    a Dask cluster (the encoder is sent to each worker once; the device is resolved on each worker).
    """
    from geoenc.device import parse_device, resolve_device
    from geoenc.imagery.autoencoder import is_autoencoder_dir
    from geoenc.io.write import LAYOUTS

    if model is not None and (method is not None or params):
        raise UsageError("give either --method (with -p) or --model, not both")
    if is_autoencoder_dir(model):
        raise UsageError("an image autoencoder (--model AE_DIR --raster) encodes single files, not datasets")
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    parse_device(device)
    load_device = resolve_device(device) if mapper is None else None  # Dask: each worker resolves its own
    embedder = Embedder(
        method, params, model=model, device=device, dtype=dtype, batch_size=batch_size, load_device=load_device
    )
    dataset = _prepare(source, out_dir, fmt)
    if embedder.needs_fit:
        from geoenc.io.dataset import read_dataset_points

        embedder.fit(read_dataset_points(source, coord_opts).lonlat(), seed=seed)
    embedder.finish()
    settings = settings_hash(
        {"command": "encode", "meta": embedder.metadata(), "layout": layout, "coords": _coords_dict(coord_opts)}
    )
    shared = _EncodeShared(embedder, layout, coord_opts or CoordOptions())
    result = run_partitions(
        _encode_partition,
        shared,
        dataset,
        out_dir,
        settings,
        overwrite=overwrite,
        mapper=mapper,
        progress=progress,
        log=log,
    )
    result.label, result.dim = embedder.label, embedder.dim
    return result


# -- predict ------------------------------------------------------------------------------------------------


@dataclass
class _PredictShared:
    model: Any
    options: dict[str, Any]


def _predict_partition(shared: _PredictShared, job: PartitionJob) -> PartitionDone:
    from geoenc.workflows.predict import predict_file

    options = dict(shared.options)
    res = predict_file(
        shared.model,
        job.open(options.pop("coord_opts"), shared.options["batch_size"]),
        job.dest,
        fmt="parquet",
        output_format="parquet",
        overwrite=True,
        metadata={MARKER_KEY: job.marker},
        keep_metric_parts=True,
        **options,
    )
    return PartitionDone(job.index, res.rows)


def _merged_metrics(files: list[Path]) -> dict[str, Any]:
    """Dataset metrics merged from every partition's recorded parts (also those done in an earlier run)."""
    import json

    import pyarrow.parquet as pq

    from geoenc.models.predict import merge_metric_parts

    parts = []
    for f in files:
        meta = json.loads((pq.read_schema(f).metadata or {}).get(b"geoenc", b"{}"))
        parts.append(meta.get("metric_parts"))
    merged = merge_metric_parts(parts)
    return {"metrics": merged} if merged else {}


def predict_dataset(
    model: str | os.PathLike[str],
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    top: int = 3,
    prior: str | None = None,
    label: str | None = None,
    batch_size: int = 65_536,
    device: str = "auto",
    fmt: str | None = None,
    coord_opts: CoordOptions | None = None,
    overwrite: bool = False,
    mapper: Mapper | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> DatasetResult:
    """Predict every partition of a dataset into ``out_dir`` (see :func:`encode_dataset`); with labels the
    dataset's metrics (merged exactly from the partitions') are in ``result.metrics`` and ``_common_metadata``."""
    from geoenc.device import parse_device, resolve_device
    from geoenc.models import load_model

    parse_device(device)
    loaded = load_model(model, resolve_device(device) if mapper is None else "cpu")
    if loaded.task == "embedding":
        from geoenc.models.predict import Predictor

        Predictor(loaded)  # raises the one-line ModelError for a head-less model
    dataset = _prepare(source, out_dir, fmt)
    options: dict[str, Any] = {"top": top, "prior": prior, "label": label, "batch_size": batch_size, "device": device}
    options["coord_opts"] = coord_opts or CoordOptions()
    settings = settings_hash(
        provenance(
            "predict",
            model_hash=loaded.model_hash,
            top=top,
            prior=prior,
            label=label,
            coords=_coords_dict(coord_opts),
        )
    )
    result = run_partitions(
        _predict_partition,
        _PredictShared(loaded, options),
        dataset,
        out_dir,
        settings,
        overwrite=overwrite,
        mapper=mapper,
        progress=progress,
        log=log,
        summary=_merged_metrics,
    )
    result.label = f"{loaded.encoder_name} + {loaded.net_name}"
    return result
