"""Training location models: :func:`train` (a plain function the CLI wraps), its :class:`TrainConfig`, and the
engine every trainer in geoenc runs on (:mod:`geoenc.training.engine`)."""

from geoenc.models.data import PointData, from_points, split_validation, stratified_fraction
from geoenc.training.config import TrainConfig, resolve_config
from geoenc.training.engine import Checkpoint, DivergedError, Engine, EngineConfig, ProgressEvent, Seeds, Task
from geoenc.training.supervised import TrainResult, train

__all__ = [
    "Checkpoint",
    "DivergedError",
    "Engine",
    "EngineConfig",
    "PointData",
    "ProgressEvent",
    "Seeds",
    "Task",
    "TrainConfig",
    "TrainResult",
    "from_points",
    "resolve_config",
    "split_validation",
    "stratified_fraction",
    "train",
]
