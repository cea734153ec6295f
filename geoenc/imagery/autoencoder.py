"""A convolutional autoencoder for image chips, and its model directory (safetensors + JSON, never pickle).

Encoder: a 3×3 stem, then ``depth`` stride-2 3×3 convolutions (channels ``width · 2^i``, at most 256),
flatten, linear → ``latent``. Decoder: linear → the last feature map, ``depth`` 4×4 stride-2 transposed
convolutions, 3×3 conv → bands. ``depth`` halves the chip while it stays even and at least 4 pixels
(32 → 16 → 8 → 4: depth 3). Per-band ``mean``/``std`` are buffers of the module (so they live in the
weights file) and are repeated in ``config.json`` for people.

Chips go in raw units ``(N, bands, size, size)`` with NaN for missing pixels; :meth:`ConvAutoencoder.normalise`
standardises them and puts missing pixels at the band mean (0), and every loss counts valid pixels only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from geoenc.errors import ModelError

KIND = "autoencoder"
ARCHITECTURE = "conv_autoencoder"


def default_depth(size: int) -> int:
    depth, s = 0, int(size)
    while s % 2 == 0 and s // 2 >= 4 and depth < 5:
        s //= 2
        depth += 1
    return depth


class ConvAutoencoder(nn.Module):
    # buffers: per-band normalisation of raw chips
    mean: Tensor
    std: Tensor

    def __init__(self, bands: int, size: int, latent: int = 64, width: int = 16, depth: int | None = None) -> None:
        super().__init__()
        self.bands, self.size, self.latent, self.width = int(bands), int(size), int(latent), int(width)
        self.depth = default_depth(size) if depth is None else int(depth)
        if self.size % (2**self.depth):
            raise ValueError(f"size {size} is not divisible by 2^{self.depth}")
        chans = [min(256, self.width * 2**i) for i in range(self.depth + 1)]
        self.inner = self.size // 2**self.depth
        enc: list[nn.Module] = [nn.Conv2d(self.bands, chans[0], 3, padding=1), nn.ReLU()]
        for i in range(self.depth):
            enc += [nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1), nn.ReLU()]
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(chans[-1] * self.inner**2, self.latent))
        self.project = nn.Sequential(nn.Linear(self.latent, chans[-1] * self.inner**2), nn.ReLU())
        dec: list[nn.Module] = []
        for i in reversed(range(self.depth)):
            dec += [nn.ConvTranspose2d(chans[i + 1], chans[i], 4, stride=2, padding=1), nn.ReLU()]
        self.decoder = nn.Sequential(*dec, nn.Conv2d(chans[0], self.bands, 3, padding=1))
        self._last = chans[-1]
        self.register_buffer("mean", torch.zeros(self.bands))
        self.register_buffer("std", torch.ones(self.bands))

    @property
    def embedding_dim(self) -> int:
        return self.latent

    def set_normalisation(self, mean: Tensor, std: Tensor) -> None:
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype))

    def normalise(self, raw: Tensor) -> tuple[Tensor, Tensor]:
        """Raw chips → (standardised chips with missing pixels at 0, float mask of valid pixels)."""
        x = (raw - self.mean[:, None, None]) / self.std[:, None, None]
        valid = torch.isfinite(x)
        return torch.where(valid, x, torch.zeros_like(x)), valid.to(x.dtype)

    def encode(self, x: Tensor) -> Tensor:
        """Standardised chips → latent ``(N, latent)``."""
        z: Tensor = self.encoder(x)
        return z

    def decode(self, z: Tensor) -> Tensor:
        h = self.project(z).view(z.shape[0], self._last, self.inner, self.inner)
        out: Tensor = self.decoder(h)
        return out

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.encode(x)
        return z, self.decode(z)

    def config(self) -> dict[str, Any]:
        return {"bands": self.bands, "size": self.size, "latent": self.latent, "width": self.width, "depth": self.depth}


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error per chip over its valid pixels ``(N,)`` (NaN for a chip without any)."""
    se = ((pred - target) ** 2 * mask).flatten(1).sum(1)
    n = mask.flatten(1).sum(1)
    return se / n


def is_autoencoder_dir(path: str | os.PathLike[str] | None) -> bool:
    """True when ``path`` is a model directory whose config.json says ``kind: autoencoder``."""
    if path is None:
        return False
    cfg = Path(path) / "config.json"
    try:
        return bool(json.loads(cfg.read_text()).get("kind") == KIND)
    except (OSError, ValueError, AttributeError):
        return False


def read_autoencoder_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    from geoenc.models.checkpoint import CONFIG, FORMAT_VERSION

    d = Path(path)
    if not (d / CONFIG).is_file():
        raise ModelError(f"model {d} has no {CONFIG}: pass the folder written by `geoenc autoencode -o`")
    try:
        cfg = json.loads((d / CONFIG).read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"model {d}: {CONFIG} is not valid JSON ({e})") from None
    if not isinstance(cfg, dict) or cfg.get("kind") != KIND:
        raise ModelError(
            f"model {d} is not an autoencoder (config.json kind is not {KIND!r}): "
            "pass a folder written by `geoenc autoencode`"
        )
    if int(cfg.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelError(f"model {d} has a newer format_version than this geoenc supports: upgrade geoenc")
    for key in ("model", "bands", "mean", "std", "weights_sha256"):
        if key not in cfg:
            raise ModelError(f"model {d}: {CONFIG} lacks {key!r}; the folder is damaged, retrain the autoencoder")
    return cfg


def load_autoencoder(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[ConvAutoencoder, dict[str, Any]]:
    """Load an autoencoder directory (weights checked against the SHA-256 in config.json)."""
    from geoenc.models.checkpoint import WEIGHTS, load_weights

    d = Path(path)
    cfg = read_autoencoder_config(d)
    try:
        model = ConvAutoencoder(**cfg["model"])
    except (TypeError, ValueError) as e:
        raise ModelError(f"model {d}: autoencoder config is damaged ({e}); retrain it") from None
    load_weights(model, d / WEIGHTS, cfg.get("weights_sha256"))
    return model.to(device).eval(), cfg
