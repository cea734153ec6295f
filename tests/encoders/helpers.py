"""Shared fixtures-as-functions for the encoder tests (kept import-light: no pytest plugins)."""

from __future__ import annotations

import torch

from geoenc.encoders import get_encoder

#: encoders whose formula is periodic in longitude, so λ = −180° and λ = +180° give the same features.
#: (tile wraps its columns at the antimeridian; the multi-scale families use non-integer frequencies
#: and rbf/rff/geoclip/grid/theory work on planar coordinates, so they are not periodic.)
PERIODIC = {"tile", "wrap", "wrap_ffn", "xyz", "nerf", "sh"}

#: encoders with trainable parameters of their own
LEARNABLE = {"tile"}

#: poles, antimeridian (both signs), equator, the corners
EDGE_POINTS = [
    (0.0, 90.0),
    (0.0, -90.0),
    (-180.0, 0.0),
    (180.0, 0.0),
    (-180.0, 90.0),
    (180.0, -90.0),
    (180.0, 90.0),
    (-180.0, -90.0),
    (0.0, 0.0),
    (179.999999, 89.999999),
    (-179.999999, -89.999999),
]


def sample_points(n: int = 64, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Uniform points on the sphere, lon/lat degrees, plus the edge points."""
    g = torch.Generator().manual_seed(seed)
    lon = torch.rand(n, generator=g, dtype=torch.float64) * 360.0 - 180.0
    lat = torch.rad2deg(torch.asin(torch.rand(n, generator=g, dtype=torch.float64) * 2.0 - 1.0))
    pts = torch.cat((torch.stack((lon, lat), 1), torch.tensor(EDGE_POINTS, dtype=torch.float64)))
    return pts.to(dtype)


def make(name: str, **params) -> torch.nn.Module:
    """The encoder at its defaults (plus ``params``), fitted on ``sample_points`` when it needs a fit."""
    enc = get_encoder(name, **params)
    if enc.needs_fit:
        enc.fit(sample_points(300, seed=123), seed=0)
    return enc


#: every encoder at the end of its parameter ranges where float32 is hardest to keep faithful: the smallest allowed
#: radius / kernel, the largest frequency (a new encoder must add itself here; a test checks that it did)
EXTREME_PARAMS: dict[str, dict] = {
    "tile": {"cell_size": 0.1, "dim": 1},
    "wrap": {},
    "wrap_ffn": {},
    "rbf": {"kernel_size": 1e-6},
    "rff": {"kernel_size": 1e8, "frequency_num": 64},
    "grid": {"min_radius": 1e-7},
    "theory": {"min_radius": 1e-7},
    "xyz": {},
    "nerf": {"frequency_num": 30},
    "sphereC": {"min_radius": 1e-9},
    "sphereC+": {"min_radius": 1e-9},
    "sphereM": {"min_radius": 1e-9},
    "sphereM+": {"min_radius": 1e-9},
    "dfs": {"min_radius": 1e-9, "frequency_num": 8},
    "sh": {"degree": 128},
    "geoclip": {"sigmas": (1e6,), "frequency_num": 64},
}
