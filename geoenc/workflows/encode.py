"""``geoenc encode``: points → embeddings, file to file in bounded memory.

Three sources of embeddings, one loop (:func:`geoenc.workflows.stream.stream_points`):

- a registered position encoder (``method`` + ``params``), fitted on the input first when it needs data;
- a model folder (``model``): the trained or pretrained location encoder's output;
- an image autoencoder folder (``model``) and a raster (``raster``): the latent of the chip around each
  point, plus a ``recon_error`` column.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from geoenc.defaults import DEFAULT_METHOD
from geoenc.device import parse_dtype, resolve_device, resolve_dtype
from geoenc.encoders.base import PositionEncoder
from geoenc.encoders.run import encode_array
from geoenc.errors import UsageError
from geoenc.io import CoordOptions, PointWriter, open_points
from geoenc.io.points import Points
from geoenc.io.read import PointStream, Source
from geoenc.provenance import provenance
from geoenc.workflows.stream import stream_points

#: upper bound on one batch's output (rows × D × 4 bytes), so wide encoders (dfs) stay in bounded memory
MAX_BATCH_BYTES = 256 << 20


@dataclass
class EncodeResult:
    rows: int
    dim: int
    method: str
    params: dict[str, Any] = field(default_factory=dict)


def rows_per_batch(batch_size: int, dim: int) -> int:
    """Rows per batch so that one batch's output stays under :data:`MAX_BATCH_BYTES`."""
    return max(1, min(batch_size, MAX_BATCH_BYTES // max(1, 4 * dim)))


@torch.no_grad()
def embed_array(
    fn: Callable[[torch.Tensor], torch.Tensor],
    lonlat: np.ndarray,
    device: torch.device,
    dtype: torch.dtype,
    batch_size: int,
    dim: int | None = None,
) -> np.ndarray:
    """``fn`` (a position encoder, or a model's ``embed``) on ``(N, 2)`` lon/lat degrees → ``(N, D)`` numpy.

    A position encoder takes the float64 coordinates and writes cache-sized blocks into one output
    (:func:`geoenc.encoders.run.encode_array`: its phases are exact for float64 input); a model's ``embed`` runs
    in batches of rows (at most :data:`MAX_BATCH_BYTES` of output each).
    """
    if isinstance(fn, PositionEncoder):
        return encode_array(fn, np.asarray(lonlat, dtype=np.float64), device=device, dtype=dtype)
    rows = rows_per_batch(batch_size, dim or int(getattr(fn, "embedding_dim", 64)))
    out = []
    for start in range(0, lonlat.shape[0], rows):
        x = torch.as_tensor(lonlat[start : start + rows], dtype=dtype).to(device)
        out.append(fn(x).to("cpu").numpy())
    return np.concatenate(out) if out else np.empty((0, dim or 0), dtype=np.float32)


def fit_encoder(enc: Any, lonlat: np.ndarray, seed: int) -> None:
    """Fit an encoder that needs data (rbf anchors, a tile extent) on ``(N, 2)`` lon/lat degrees; others stay."""
    if enc.needs_fit:
        enc.fit(torch.from_numpy(np.asarray(lonlat, dtype=np.float64)), seed=seed)


def encode_lonlat(
    lonlat: np.ndarray,
    method: str | torch.nn.Module | None = None,
    params: dict[str, Any] | None = None,
    *,
    device: str = "auto",
    dtype: str = "float32",
    batch_size: int = 65_536,
    seed: int = 0,
) -> np.ndarray:
    """In-memory ``geoenc encode``: ``(N, 2)`` lon/lat degrees → ``(N, D)`` embeddings of a registered encoder.

    Encoders fitted on data (rbf anchors, tile extent) are fitted on these same points, as :func:`encode_file`
    fits them on its input (with their own ``seed`` parameter when given, else ``seed``). ``method`` is a
    registered name (with ``params``) or an encoder built by :func:`geoenc.encoders.get_encoder`.
    """
    from geoenc.encoders import get_encoder

    if isinstance(method, torch.nn.Module):
        if params:
            raise UsageError("give the parameters to get_encoder, not with an encoder already built")
        enc: Any = method
    else:
        enc = get_encoder(method or DEFAULT_METHOD, **(params or {}))
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    fit_encoder(enc, lonlat, seed)
    return embed_array(enc.to(dev), np.asarray(lonlat, dtype=np.float64), dev, dt, batch_size, enc.embedding_dim)


def _state_hash(module: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class Embedder:
    """What turns lon/lat into embeddings: a registered position encoder or a model's learned encoder.

    Built once per run; with a dataset on Dask it is sent to every worker once (it pickles without its device
    binding), and the device (``auto``, ``cpu``, ``cuda`` …) is resolved where it runs, so CPU and GPU workers
    both work. ``load_device`` is where a model is loaded (the client's device for a single-process run).
    """

    def __init__(
        self,
        method: str | None = None,
        params: dict[str, Any] | None = None,
        *,
        model: str | os.PathLike[str] | None = None,
        device: str = "auto",
        dtype: str = "float32",
        batch_size: int = 65_536,
        load_device: torch.device | None = None,
    ) -> None:
        self.device, self.dtype, self.batch_size = device, parse_dtype(dtype), int(batch_size)
        self.module: Any
        if model is not None:
            from geoenc.models import load_model

            loaded = load_model(model, load_device or torch.device("cpu"))
            self.module, self.dim = loaded, int(loaded.embedding_dim)
            self.label = loaded.encoder_name
            self.params: dict[str, Any] = {}
            self.meta = provenance(
                "encode",
                model=str(model),
                model_sha256=loaded.model_hash,
                method=loaded.encoder_name,
                model_config=loaded.config,
            )
        else:
            from geoenc.encoders import get_encoder

            enc = get_encoder(method or DEFAULT_METHOD, **(params or {}))
            self.module, self.dim, self.label = enc, int(enc.embedding_dim), enc.name
            self.params, self.meta = {}, {}  # set by finish(), after any fit
        self.is_model = model is not None
        self._bound: tuple[Callable[[torch.Tensor], torch.Tensor], torch.device, torch.dtype] | None = None

    @property
    def needs_fit(self) -> bool:
        return not self.is_model and bool(self.module.needs_fit)

    def fit(self, lonlat: np.ndarray, seed: int = 0) -> None:
        """Fit an encoder that needs data (rbf anchors) on ``(N, 2)`` lon/lat degrees."""
        fit_encoder(self.module, lonlat, seed)

    def finish(self) -> None:
        """Record the encoder's final parameters and state hash (after any fit) in the provenance."""
        if self.is_model:
            return
        enc = self.module
        self.params = enc.params
        self.meta = provenance("encode", method=enc.name, params=self.params, state_sha256=_state_hash(enc))
        if enc.needs_fit:
            self.meta["fitted_on"] = "the input points themselves"

    def metadata(self) -> dict[str, Any]:
        """The ``geoenc`` metadata of the output: provenance, dimension and dtype."""
        return {**self.meta, "dim": self.dim, "dtype": self.dtype}

    def bind(self) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.device, torch.dtype]:
        """The encoding function on the device resolved here (moved there on first use)."""
        if self._bound is None:
            dev = resolve_device(self.device)
            if self.is_model:
                self.module = self.module.to(dev)
                fn = self.module.embed
            else:
                fn = self.module.to(dev)
            self._bound = (fn, dev, resolve_dtype(self.dtype))
        return self._bound

    def __call__(self, lonlat: np.ndarray) -> np.ndarray:
        """``(N, 2)`` lon/lat degrees → ``(N, D)`` embeddings (numpy)."""
        fn, dev, dt = self.bind()
        return embed_array(fn, lonlat, dev, dt, self.batch_size, self.dim)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_bound"] = None  # the receiving process resolves its own device
        return state


def write_embeddings(
    embedder: Embedder,
    stream: PointStream,
    writer: PointWriter,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Encode every batch of ``stream`` into ``writer`` (its metadata set from ``embedder``); returns the rows."""
    writer.metadata.update(embedder.metadata())

    def compute(batch: Points) -> tuple[Points, dict[str, Any]]:
        return batch, {"embedding": embedder(batch.lonlat())}

    rows, _ = stream_points(stream, writer, compute, progress)
    return rows


def encode_file(
    source: Source,
    dest: str | Path,
    method: str | None = None,
    params: dict[str, Any] | None = None,
    *,
    model: str | os.PathLike[str] | None = None,
    raster: str | os.PathLike[str] | None = None,
    fmt: str | None = None,
    output_format: str | None = None,
    coord_opts: CoordOptions | None = None,
    layout: str = "list",
    batch_size: int = 65_536,
    device: str = "auto",
    dtype: str = "float32",
    seed: int = 0,
    overwrite: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> EncodeResult:
    """Read points, encode them batch by batch, and write them with an ``embedding`` column.

    Args:
        source: a points file (GeoParquet, GeoJSON, CSV), ``-`` for stdin, bytes or a binary file object.
        dest: the output (``.parquet`` or ``.csv``), or ``-`` for stdout.
        method, params: a registered position encoder and its parameters (default ``sphereM``).
        model: a model folder (``geoenc train``/``pretrain``/``pretrained import``) whose learned location
            encoder embeds the points, or an image autoencoder folder (``geoenc autoencode``) with ``raster``.
        raster: with an autoencoder folder, the image to cut chips from.
        seed: seed for encoders fitted on the input (rbf anchors) whose own ``seed`` parameter is not given.

    Memory stays bounded by ``batch_size`` whatever the input's size. Everything the user gave is checked
    (names, parameters, device, output) before the input is read. A partitioned dataset (a folder or a glob
    of Parquet files) goes through :func:`geoenc.workflows.dataset.encode_dataset` instead.
    """
    from geoenc.imagery.autoencoder import is_autoencoder_dir

    if model is not None and (method is not None or params):
        raise UsageError("give either --method (with -p) or --model, not both")
    if raster is not None or is_autoencoder_dir(model):
        if model is None or not is_autoencoder_dir(model):
            raise UsageError("--raster goes with --model AE_DIR, an image autoencoder written by `geoenc autoencode`")
        if raster is None:
            raise UsageError(f"model {model} is an image autoencoder: give the raster to cut chips from with --raster")
        return _encode_with_autoencoder(
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
    dev = resolve_device(device)
    resolve_dtype(dtype)
    embedder = Embedder(method, params, model=model, device=device, dtype=dtype, batch_size=batch_size, load_device=dev)
    with PointWriter(dest, output_format, overwrite=overwrite, layout=layout, inputs=[source]) as writer:
        stream = open_points(source, fmt, coord_opts, batch_rows=batch_size)
        if embedder.needs_fit:
            embedder.fit(np.concatenate([b.lonlat() for b in stream]), seed=seed)
        embedder.finish()
        rows = write_embeddings(embedder, stream, writer, progress)
    return EncodeResult(rows=rows, dim=embedder.dim, method=embedder.label, params=embedder.params)


def _encode_with_autoencoder(
    source: Source,
    dest: str | Path,
    ae_dir: str | os.PathLike[str],
    raster: str | os.PathLike[str],
    *,
    fmt: str | None,
    output_format: str | None,
    coord_opts: CoordOptions | None,
    layout: str,
    batch_size: int,
    device: str,
    overwrite: bool,
    progress: Callable[[int, int | None], None] | None,
) -> EncodeResult:
    """The points' ``embedding`` (the autoencoder's latent of the chip at each point) and ``recon_error``."""
    from geoenc.imagery.embed import AutoencoderEmbedder

    rows_per = min(int(batch_size), 4096)  # chips are bands·size² floats each: bounded memory
    with (
        AutoencoderEmbedder(ae_dir, raster, device=device) as emb,
        PointWriter(dest, output_format, overwrite=overwrite, layout=layout, inputs=[source, raster]) as writer,
    ):
        writer.metadata.update(
            provenance(
                "encode",
                method="autoencoder",
                model=str(ae_dir),
                model_config=emb.config,
                raster=str(raster),
                dim=emb.latent_dim,
                dtype="float32",
                recon_error="MSE over the chip's valid pixels, standardised bands",
            )
        )

        def compute(batch: Points) -> tuple[Points, dict[str, Any]]:
            z, err = emb(batch.lon, batch.lat, offset=batch.offset)
            return batch, {"embedding": z, "recon_error": err}

        rows, _ = stream_points(open_points(source, fmt, coord_opts, batch_rows=rows_per), writer, compute, progress)
    return EncodeResult(rows=rows, dim=emb.latent_dim, method="autoencoder")
