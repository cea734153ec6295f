"""Using a trained chip autoencoder: latent embeddings of points, and a reconstruction-error (anomaly) map.

Reconstruction error is the mean squared error over a chip's valid pixels in standardised units (each
band divided by its training std), so 1.0 is as bad as predicting every band's mean.
"""

from __future__ import annotations

import os
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
        self,
        ae_dir: str | os.PathLike[str],
        raster: str | os.PathLike[str],
        *,
        device: str = "auto",
        batch_size: int = 512,
    ) -> None:
        self.device = resolve_device(device)
        self.model, self.config = load_autoencoder(ae_dir, self.device)
        self.ae_dir = os.fspath(ae_dir)
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

    def __exit__(self, *exc: object) -> None:
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
    ae_dir: str | os.PathLike[str],
    raster: str | os.PathLike[str],
    points: Any,
    *,
    device: str = "auto",
    batch_size: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """Latent embeddings ``(N, latent)`` float32 and reconstruction errors ``(N,)`` of the chips at ``points``.

    ``points``: a :class:`geoenc.io.Points`, an ``(N, 2)`` array of lon/lat degrees, or a points file.
    Every point must lie inside the raster (an :class:`InputError` names how many do not, and the first).
    """
    if hasattr(points, "lon") and hasattr(points, "lat"):
        lon, lat = points.lon, points.lat
    elif isinstance(points, (str, os.PathLike)):
        from geoenc.io import read_points

        p = read_points(os.fspath(points))  # read_points takes str or pathlib.Path, not any os.PathLike
        lon, lat = p.lon, p.lat
    else:
        arr = np.asarray(points, np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ParameterError(f"points must be (N, 2) lon/lat degrees, got shape {arr.shape}")
        lon, lat = arr[:, 0], arr[:, 1]
    with AutoencoderEmbedder(ae_dir, raster, device=device, batch_size=batch_size) as emb:
        return emb(lon, lat)
