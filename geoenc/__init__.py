"""geoenc: location encoders, location models and geo-bias scores for geographic points.

The Python API::

    import geoenc
    geoenc.list_encoders()                          # what is registered
    enc = geoenc.get_encoder("sphereM", frequency_num=32)
    emb = geoenc.encode(lonlat, "sphereM")          # (N, 2) degrees → (N, D) numpy
    model = geoenc.load_model("model/")             # a folder from `geoenc train` / `geoenc pretrain`
    probs = model.predict(lonlat)                   # class probabilities or values

``import geoenc`` imports neither torch nor pyarrow: the API loads on first use.
"""

from __future__ import annotations

from typing import Any

from geoenc._version import __version__

__all__ = ["__version__", "encode", "encode_file", "get_encoder", "list_encoders", "load_model"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from geoenc import api

        return getattr(api, name)
    raise AttributeError(f"module 'geoenc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
