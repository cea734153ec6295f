"""Position encoders: ``(N, 2)`` lon/lat degrees → ``(N, D)`` features, in pure torch.

Importing this package registers every encoder; use :func:`get_encoder` and :func:`list_encoders`.
"""

import importlib

from geoenc.encoders.base import PositionEncoder
from geoenc.encoders.registry import (
    EncoderInfo,
    encoder_names,
    get_encoder,
    get_encoder_class,
    list_encoders,
    register,
    resolve_params,
)

#: each module registers its encoders on import; this order is the order of `geoenc methods`:
#: tile, wrap, wrap_ffn, rbf, rff, grid, theory, xyz, nerf, sphereC, sphereC+, sphereM, sphereM+, dfs, sh, geoclip
ENCODER_MODULES = ("tile", "wrap", "kernel", "rff", "space2vec", "cartesian", "sphere2vec", "harmonics", "geoclip")
for _module in ENCODER_MODULES:
    importlib.import_module(f"geoenc.encoders.{_module}")

__all__ = [
    "EncoderInfo",
    "PositionEncoder",
    "encoder_names",
    "get_encoder",
    "get_encoder_class",
    "list_encoders",
    "register",
    "resolve_params",
]
