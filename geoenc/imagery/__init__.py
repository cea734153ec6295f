"""Imagery as a modality: image chips around points, a convolutional autoencoder, and its embeddings.

``geoenc.imagery.raster`` and ``geoenc.imagery.patches`` need only numpy and rasterio; the autoencoder
modules import torch. The public functions are re-exported here lazily.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "ChipReader": "geoenc.imagery.raster",
    "extract_patches": "geoenc.imagery.patches",
    "write_patches": "geoenc.imagery.patches",
    "read_patches": "geoenc.imagery.patches",
    "ConvAutoencoder": "geoenc.imagery.autoencoder",
    "load_autoencoder": "geoenc.imagery.autoencoder",
    "is_autoencoder_dir": "geoenc.imagery.autoencoder",
    "train_autoencoder": "geoenc.imagery.training",
    "embed_points_with_autoencoder": "geoenc.imagery.embed",
    "reconstruction_error_map": "geoenc.imagery.embed",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'geoenc.imagery' has no attribute {name!r}")
