"""Position-encoding points, in memory (:func:`encode`) or file to file in bounded memory (:func:`encode_file`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import geoenc
from geoenc.device import resolve_device, resolve_dtype
from geoenc.encoders import PositionEncoder, get_encoder
from geoenc.encoders.run import encode_array
from geoenc.io import CoordOptions, PointWriter, open_points
from geoenc.io.read import Source

#: upper bound on one batch's output (rows × D × 4 bytes), so wide encoders (dfs) stay in bounded memory
MAX_BATCH_BYTES = 256 << 20


def encode(
    lonlat: Any,
    method: str = "sphereM",
    *,
    device: str = "auto",
    dtype: str = "float32",
    batch_size: int = 65_536,
    seed: int = 0,
    **params: Any,
) -> np.ndarray:
    """Encode an ``(N, 2)`` array of lon/lat degrees with a registered encoder; returns ``(N, D)`` numpy.

    Encoders that are fitted on data (``rbf`` anchors) are fitted on these same points with ``seed``.
    The coordinates are used as float64 (the phases are exact for them) and written into one output array in
    cache-sized blocks (:func:`geoenc.encoders.run.encode_array`); ``batch_size`` no longer changes anything here.
    """
    enc = get_encoder(method, **params)
    lonlat = np.asarray(lonlat, dtype=np.float64)
    if enc.needs_fit:
        enc.fit(torch.from_numpy(lonlat), seed=seed)
    dev = resolve_device(device)
    return encode_array(enc.to(dev), lonlat, device=dev, dtype=resolve_dtype(dtype))


def _rows_per_batch(batch_size: int, dim: int) -> int:
    return max(1, min(batch_size, MAX_BATCH_BYTES // max(1, 4 * dim)))


@torch.no_grad()
def _run(
    fn: Callable[[torch.Tensor], torch.Tensor],
    lonlat: np.ndarray,
    device: torch.device,
    dtype: torch.dtype,
    batch_size: int,
    dim: int | None = None,
) -> np.ndarray:
    if isinstance(fn, PositionEncoder):  # float64 coordinates in, cache-sized blocks into one output
        return encode_array(fn, lonlat, device=device, dtype=dtype)
    rows = _rows_per_batch(batch_size, dim or getattr(fn, "embedding_dim", 64))
    out = []
    for start in range(0, lonlat.shape[0], rows):
        x = torch.as_tensor(lonlat[start : start + rows], dtype=dtype).to(device)
        out.append(fn(x).to("cpu").numpy())
    return np.concatenate(out) if out else np.empty((0, dim or 0), dtype=np.float32)


@dataclass
class EncodeResult:
    rows: int
    dim: int
    method: str
    params: dict = field(default_factory=dict)


def _fit_on_input(enc: PositionEncoder, stream, seed: int) -> None:
    coords = [b.lonlat() for b in stream]
    enc.fit(torch.from_numpy(np.concatenate(coords)), seed=seed)


def _state_hash(module: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def encode_file(
    source: Source,
    dest: str | Path,
    method: str | None = "sphereM",
    params: dict | None = None,
    *,
    fmt: str | None = None,
    output_format: str | None = None,
    coord_opts: CoordOptions | None = None,
    layout: str = "list",
    batch_size: int = 65_536,
    device: str = "auto",
    dtype: str = "float32",
    seed: int = 0,
    overwrite: bool = False,
    model: str | Path | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    raster: str | Path | None = None,
) -> EncodeResult:
    """Read points, encode them batch by batch, and write them with an ``embedding`` column.

    With ``model`` the embedding is the trained (or pretrained) location encoder's output instead of a
    bare position encoding. Memory stays bounded by the batch size whatever the input's size.
    With ``model`` an image autoencoder (``geoenc autoencode``) and ``raster`` an image, the embedding is
    the latent of the chip around each point, plus a ``recon_error`` column.
    """
    from geoenc.imagery.autoencoder import is_autoencoder_dir
    from geoenc.io.write import check_output

    if raster is not None or is_autoencoder_dir(model):
        from geoenc.errors import UsageError
        from geoenc.imagery.embed import encode_file_with_autoencoder

        if not is_autoencoder_dir(model):
            raise UsageError("--raster goes with --model AE_DIR, an image autoencoder written by `geoenc autoencode`")
        if raster is None:
            raise UsageError(f"model {model} is an image autoencoder: give the raster to cut chips from with --raster")
        rows, dim = encode_file_with_autoencoder(
            source,
            dest,
            model,
            raster,
            fmt=fmt,
            output_format=output_format,
            coord_opts=coord_opts,
            layout=layout,
            batch_size=batch_size,
            device=device,
            overwrite=overwrite,
            progress=progress,
        )
        return EncodeResult(rows=rows, dim=dim, method="autoencoder")
    check_output(dest, overwrite)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    stream = open_points(source, fmt, coord_opts, batch_rows=batch_size)
    if model is not None:
        from geoenc.models import load_model  # imported lazily: models pull in the nets

        loaded = load_model(model)
        loaded.to(dev) if hasattr(loaded, "to") else None
        fn: Callable[[torch.Tensor], torch.Tensor] = loaded.embed
        dim = int(getattr(loaded, "embedding_dim", 0)) or None
        meta = {
            "model": str(model),
            "model_config": getattr(loaded, "config", {}),
            "method": getattr(loaded, "encoder_name", None),
        }
        label = meta["method"] or "model"
        params_out: dict = {}
    else:
        enc = get_encoder(method or "sphereM", **(params or {}))
        if enc.needs_fit:
            _fit_on_input(enc, stream, seed)
        enc = enc.to(dev)
        fn, dim = enc, enc.embedding_dim
        label, params_out = enc.name, enc.params
        meta = {"method": enc.name, "params": params_out, "state_sha256": _state_hash(enc)}
        if enc.needs_fit:
            meta["fitted_on"] = f"the input points themselves (seed {seed})"
    meta.update(
        {"geoenc_version": geoenc.__version__, "dim": dim, "dtype": str(dt).replace("torch.", ""), "seed": seed}
    )
    rows = 0
    with PointWriter(dest, output_format, overwrite=overwrite, layout=layout, metadata=meta) as writer:
        for batch in stream:
            emb = _run(fn, batch.lonlat(), dev, dt, batch_size, dim)
            if dim is None:
                dim = emb.shape[1]
                writer.metadata["dim"] = dim
            writer.write(batch.lon, batch.lat, batch.attrs, {"embedding": emb})
            rows += len(batch)
            if progress is not None:
                progress(rows, stream.total_rows)
    return EncodeResult(rows=rows, dim=int(dim or 0), method=label, params=params_out)
