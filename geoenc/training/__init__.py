"""Training location models: :func:`train` (a plain function the CLI wraps) and its :class:`TrainConfig`."""

from geoenc.training.config import TrainConfig
from geoenc.training.data import PointData, from_points, split_validation
from geoenc.training.loop import ProgressEvent, TrainResult, train

__all__ = ["PointData", "ProgressEvent", "TrainConfig", "TrainResult", "from_points", "split_validation", "train"]
