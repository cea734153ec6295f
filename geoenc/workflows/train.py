"""``geoenc train`` / ``geoenc pretrain`` from files: check the output, read the points, train, write the folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from geoenc.io import CoordOptions, read_points
from geoenc.io.atomic import check_output_dir
from geoenc.io.dataset import read_points_or_dataset
from geoenc.io.read import Source
from geoenc.pretrain import PretrainConfig, PretrainResult, pretrain
from geoenc.training import ProgressEvent, TrainConfig, TrainResult, train


def train_files(
    config: TrainConfig,
    train_source: Source,
    out_dir: str | os.PathLike[str],
    *,
    val_source: Source | None = None,
    fmt: str | None = None,
    coord_opts: CoordOptions | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> TrainResult:
    """Train on a points file (and an optional validation file) and write the model folder ``out_dir``.

    Either may be a partitioned dataset (a folder or glob of Parquet files): its partitions are read in sorted
    order into one table. Under ``torchrun`` every rank reads the whole table (docs/scale.md).

    The settings are checked and the output folder is checked before any data is read; with ``resume`` the
    interrupted run saved in ``out_dir`` continues.
    """
    config.validate()
    inputs = [str(s) for s in (train_source, val_source) if isinstance(s, (str, os.PathLike))]
    if os.environ.get("RANK", "0") == "0":
        check_output_dir(out_dir, overwrite, inputs=inputs, resume=resume)
    train_points = read_points_or_dataset(train_source, fmt, coord_opts)
    val_points = read_points_or_dataset(val_source, fmt, coord_opts) if val_source is not None else None
    return train(
        config,
        train_points,
        val_points,
        progress=progress,
        out_dir=out_dir,
        overwrite=overwrite,
        resume=out_dir if resume else None,
        inputs=inputs,
    )


def pretrain_file(
    config: PretrainConfig,
    source: Source,
    out_dir: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    coord_opts: CoordOptions | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> PretrainResult:
    """Pre-train on a points file with a feature column and write the head-less model folder ``out_dir``."""
    config.validate()
    inputs: list[Any] = [str(source)] if isinstance(source, (str, os.PathLike)) else []
    check_output_dir(out_dir, overwrite, inputs=inputs, resume=resume)
    points = read_points(source, fmt, opts=coord_opts)
    return pretrain(
        config,
        points,
        progress=progress,
        out_dir=out_dir,
        overwrite=overwrite,
        resume=out_dir if resume else None,
        inputs=inputs,
    )
