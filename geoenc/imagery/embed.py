"""Using a trained chip autoencoder: latent embeddings of points, and a reconstruction-error (anomaly) map.

Reconstruction error is the mean squared error over a chip's valid pixels in standardised units (each
band divided by its training std), so 1.0 is as bad as predicting every band's mean.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from geoenc.device import resolve_device
from geoenc.errors import InputError, ParameterError
from geoenc.imagery.autoencoder import load_autoencoder, masked_mse
from geoenc.imagery.raster import ChipReader, outside_message


class AutoencoderEmbedder:
    """An autoencoder directory and a raster, opened once: ``embedder(lon, lat) → (latent, recon_error)``."""

    def __init__(
        self, ae_dir: str | os.PathLike, raster: str | os.PathLike, *, device: str = "auto", batch_size: int = 512
    ) -> None:
        self.device = resolve_device(device)
        self.model, self.config = load_autoencoder(ae_dir, self.device)
        self.ae_dir = str(ae_dir)
        self.batch_size = int(batch_size)
        bands = self.config["bands"]
        try:
            self.reader = ChipReader(raster, self.model.size, bands)
        except ParameterError as e:
            raise InputError(
                f"raster {str(raster)!r} does not fit autoencoder {self.ae_dir} (trained on bands "
                f"{bands}, chips of {self.model.size} pixels): {e}"
            ) from None

    @property
    def latent_dim(self) -> int:
        return self.model.latent

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> AutoencoderEmbedder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @torch.no_grad()
    def run_chips(self, chips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw chips ``(N, bands, size, size)`` (NaN = missing) → latent ``(N, latent)``, error ``(N,)``."""
        zs, errs = [], []
        for i in range(0, chips.shape[0], self.batch_size):
            raw = torch.from_numpy(np.ascontiguousarray(chips[i : i + self.batch_size])).to(self.device)
            x, m = self.model.normalise(raw)
            z, rec = self.model(x)
            zs.append(z.float().cpu().numpy())
            errs.append(masked_mse(rec, x, m).float().cpu().numpy())
        if not zs:
            return np.empty((0, self.latent_dim), np.float32), np.empty(0, np.float32)
        return np.concatenate(zs), np.concatenate(errs)

    def __call__(self, lon: Any, lat: Any, *, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        lon = np.asarray(lon, np.float64).reshape(-1)
        lat = np.asarray(lat, np.float64).reshape(-1)
        px = self.reader.pixels(lon, lat)
        if not px.inside.all():
            i = int(np.nonzero(~px.inside)[0][0])
            msg = outside_message(int((~px.inside).sum()), lon.size, offset + i, lon[i], lat[i], self.reader.path)
            raise InputError(msg.replace("pass --skip-outside to drop them", "give points inside the raster"))
        return self.run_chips(self.reader.chips(px.row, px.col))


def embed_points_with_autoencoder(
    ae_dir: str | os.PathLike, raster: str | os.PathLike, points: Any, *, device: str = "auto", batch_size: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Latent embeddings ``(N, latent)`` float32 and reconstruction errors ``(N,)`` of the chips at ``points``.

    ``points``: a :class:`geoenc.io.Points`, an ``(N, 2)`` array of lon/lat degrees, or a points file.
    Every point must lie inside the raster (an :class:`InputError` names how many do not, and the first).
    """
    if hasattr(points, "lon") and hasattr(points, "lat"):
        lon, lat = points.lon, points.lat
    elif isinstance(points, (str, os.PathLike)):
        from geoenc.io import read_points

        p = read_points(points)
        lon, lat = p.lon, p.lat
    else:
        arr = np.asarray(points, np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ParameterError(f"points must be (N, 2) lon/lat degrees, got shape {arr.shape}")
        lon, lat = arr[:, 0], arr[:, 1]
    with AutoencoderEmbedder(ae_dir, raster, device=device, batch_size=batch_size) as emb:
        return emb(lon, lat)


def reconstruction_error_map(
    ae_dir: str | os.PathLike,
    raster: str | os.PathLike,
    out_tif: str | os.PathLike,
    *,
    stride: int | None = None,
    min_valid: float = 0.5,
    device: str = "auto",
    batch_size: int = 512,
    overwrite: bool = False,
) -> Path:
    """Write a GeoTIFF whose pixel (i, j) is the reconstruction error of the chip centred on raster pixel
    ``(i·stride + stride//2, j·stride + stride//2)``: an anomaly map at 1/stride of the raster's resolution.

    Same CRS as the raster, transform ``raster_transform · scale(stride)``; float32, tiled, deflate,
    nodata −9999 where less than ``min_valid`` of the chip is valid; band description ``reconstruction_mse``.
    ``stride`` defaults to the chip size.
    """
    from affine import Affine

    from geoenc.io.atomic import check_output
    from geoenc.io.geotiff import write_geotiff

    out = Path(out_tif)
    check_output(out, overwrite)
    with AutoencoderEmbedder(ae_dir, raster, device=device, batch_size=batch_size) as emb:
        r = emb.reader
        stride = int(stride or r.size)
        if stride < 1:
            raise ParameterError(f"--stride must be at least 1, got {stride}")
        ow, oh = math.ceil(r.width / stride), math.ceil(r.height / stride)
        grid = np.full((oh, ow), -9999.0, np.float32)
        cols = np.arange(ow) * stride + stride // 2
        for i in range(oh):
            rows = np.full(ow, i * stride + stride // 2)
            chips = r.chips(np.minimum(rows, r.height - 1), np.minimum(cols, r.width - 1))
            ok = np.isfinite(chips).all(axis=1).reshape(ow, -1).mean(axis=1) >= min_valid
            if ok.any():
                _, err = emb.run_chips(chips[ok])
                grid[i, ok] = np.where(np.isfinite(err), err, -9999.0)
        write_geotiff(
            out,
            [grid],
            ["reconstruction_mse"],
            transform=r.transform @ Affine.scale(stride),
            crs=r.crs_label(),
            nodata=-9999.0,
            overwrite=overwrite,
            dtype="float32",
        )
    return out


def encode_file_with_autoencoder(
    source: Any,
    dest: str | os.PathLike,
    ae_dir: str | os.PathLike,
    raster: str | os.PathLike,
    *,
    fmt: str | None = None,
    output_format: str | None = None,
    coord_opts=None,
    layout: str = "list",
    batch_size: int = 65_536,
    device: str = "auto",
    overwrite: bool = False,
    progress=None,
) -> tuple[int, int]:
    """File to file: the points' ``embedding`` (the autoencoder's latent) and ``recon_error`` columns.

    Streams the input in batches; returns (rows, latent dimension). Used by ``geoenc encode --raster``.
    """
    import geoenc
    from geoenc.io import PointWriter, check_output, open_points

    check_output(dest, overwrite)
    rows_per_batch = min(int(batch_size), 4096)  # chips are bands·size² floats each: bounded memory
    with AutoencoderEmbedder(ae_dir, raster, device=device) as emb:
        stream = open_points(source, fmt, coord_opts, batch_rows=rows_per_batch)
        meta = {
            "method": "autoencoder",
            "model": str(ae_dir),
            "model_config": emb.config,
            "raster": str(raster),
            "dim": emb.latent_dim,
            "dtype": "float32",
            "recon_error": "MSE over the chip's valid pixels, standardised bands",
            "geoenc_version": geoenc.__version__,
        }
        rows = 0
        with PointWriter(dest, output_format, overwrite=overwrite, layout=layout, metadata=meta) as writer:
            for batch in stream:
                z, err = emb(batch.lon, batch.lat, offset=rows)
                writer.write(batch.lon, batch.lat, batch.attrs, {"embedding": z, "recon_error": err})
                rows += len(batch)
                if progress is not None:
                    progress(rows, stream.total_rows)
        return rows, emb.latent_dim
