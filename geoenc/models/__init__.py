"""Location models: position encoder + net (+ feature MLP) + head, their typed spec, and model folders on disk.

``load_model(path)`` reads a folder written by ``geoenc train``/``pretrain`` (safetensors + JSON, never pickle).
"""

from geoenc.models.checkpoint import LoadedModel, load_model, read_spec, write_model_dir
from geoenc.models.location import FeatureMLP, LocationEncoder, LocationModel, build_model
from geoenc.models.spec import FORMAT_VERSION, TASKS, Component, FeatureSpec, ModelSpec

__all__ = [
    "FORMAT_VERSION",
    "TASKS",
    "Component",
    "FeatureMLP",
    "FeatureSpec",
    "LoadedModel",
    "LocationEncoder",
    "LocationModel",
    "ModelSpec",
    "build_model",
    "load_model",
    "read_spec",
    "write_model_dir",
]
