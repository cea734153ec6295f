"""The Python API behind ``import geoenc`` (imported on first use, so ``import geoenc`` stays light)."""

from __future__ import annotations

from typing import Any

import numpy as np

from geoenc.defaults import DEFAULT_METHOD
from geoenc.device import resolve_device, resolve_dtype
from geoenc.encoders import get_encoder, list_encoders
from geoenc.models import load_model
from geoenc.workflows.encode import encode_array, encode_file


def encode(
    lonlat: Any,
    method: str = DEFAULT_METHOD,
    *,
    device: str = "auto",
    dtype: str = "float32",
    batch_size: int = 65_536,
    seed: int = 0,
    **params: Any,
) -> np.ndarray:
    """Encode an ``(N, 2)`` array of lon/lat degrees with a registered encoder; returns ``(N, D)`` numpy.

    Encoders that are fitted on data (``rbf`` anchors) are fitted on these same points (with their own ``seed``
    parameter when given, else ``seed``). A ``dask_geopandas.GeoDataFrame`` gives a lazy one back, with an
    ``embedding`` column (:func:`geoenc.workflows.frames.encode_frame`).
    """
    import torch

    from geoenc.workflows.frames import encode_frame, is_dask_frame

    if is_dask_frame(lonlat):
        return encode_frame(lonlat, method, device=device, dtype=dtype, batch_size=batch_size, seed=seed, **params)

    enc = get_encoder(method, **params)
    ll = np.asarray(lonlat, dtype=np.float64)
    if enc.needs_fit:
        enc.fit(torch.from_numpy(ll), seed=seed)
    dev = resolve_device(device)
    return encode_array(enc.to(dev), ll, dev, resolve_dtype(dtype), batch_size, enc.embedding_dim)


__all__ = ["encode", "encode_file", "get_encoder", "list_encoders", "load_model"]
