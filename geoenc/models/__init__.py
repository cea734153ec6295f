"""Location models: position encoder + net (+ feature MLP) + head, and model directories on disk.

``load_model(path)`` reads a directory written by ``geoenc train`` (safetensors + JSON, never pickle).
"""

from geoenc.models.checkpoint import FORMAT_VERSION, LoadedModel, load_model, read_config, write_model_dir
from geoenc.models.location import TASKS, FeatureMLP, LocationEncoder, LocationModel, build_model

__all__ = [
    "FORMAT_VERSION",
    "TASKS",
    "FeatureMLP",
    "LoadedModel",
    "LocationEncoder",
    "LocationModel",
    "build_model",
    "load_model",
    "read_config",
    "write_model_dir",
]
