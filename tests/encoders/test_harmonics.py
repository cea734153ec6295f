"""Spherical harmonics: against scipy, orthonormality, the SatCLIP convention, high degrees."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import sph_harm_y

from geoenc.encoders import get_encoder
from tests.encoders.helpers import sample_points


def _real_sh_scipy(l: int, m: int, lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """Real orthonormal harmonics from scipy's complex ones (which carry the Condon–Shortley phase)."""
    theta, phi = np.radians(90.0 - lat_deg), np.radians(lon_deg)
    y = sph_harm_y(l, abs(m), theta, phi)
    if m > 0:
        return math.sqrt(2) * (-1) ** m * y.real
    if m < 0:
        return math.sqrt(2) * (-1) ** m * y.imag
    return y.real


@pytest.mark.parametrize("degree", [1, 2, 5, 64])
def test_matches_scipy(degree):
    pts = sample_points(40, seed=11)
    out = get_encoder("sh", degree=degree)(pts).numpy()
    lon, lat = pts[:, 0].numpy(), pts[:, 1].numpy()
    pairs = [(l, m) for l in range(degree) for m in range(-l, l + 1)]
    if degree > 5:  # a spread of (l, m), including the extremes
        pairs = [(0, 0), (1, -1), (10, 3), (31, -31), (40, 0), (50, 25), (63, -63), (63, 63), (63, 1), (63, -40)]
    for l, m in pairs:
        np.testing.assert_allclose(
            out[:, l * l + l + m], _real_sh_scipy(l, m, lon, lat), atol=1e-11, err_msg=f"l={l} m={m}"
        )


def test_float32_accuracy_at_degree_64():
    pts = sample_points(200, seed=4)
    enc = get_encoder("sh", degree=64)
    np.testing.assert_allclose(enc(pts.float()).double().numpy(), enc(pts).numpy(), atol=5e-4)


def test_monte_carlo_gram_is_identity():
    pts = sample_points(100_000, seed=0)[:100_000]  # uniform on the sphere
    y = get_encoder("sh", degree=6)(pts)
    gram = (y.T @ y) * (4 * math.pi / y.shape[0])
    torch.testing.assert_close(gram, torch.eye(36, dtype=gram.dtype), atol=0.05, rtol=0)


def test_quadrature_gram_is_exactly_identity():
    # Gauss–Legendre in sin φ × equally spaced longitudes integrates degree ≤ 2(L−1) exactly
    L = 20
    x, w = np.polynomial.legendre.leggauss(L + 1)
    n_lon = 2 * L + 2
    lon = np.arange(n_lon) * 360.0 / n_lon - 180.0
    lat = np.degrees(np.arcsin(x))
    grid = np.stack(np.meshgrid(lon, lat), -1).reshape(-1, 2)
    weights = np.repeat(w, n_lon) * (2 * math.pi / n_lon)
    y = get_encoder("sh", degree=L)(torch.tensor(grid)).numpy()
    gram = (y * weights[:, None]).T @ y
    np.testing.assert_allclose(gram, np.eye(L * L), atol=1e-10)


def _satclip_by_hand(lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """SatCLIP's degree 0–2 functions: θ = φ + 90°, ϕ = λ + 180°, no Condon–Shortley phase, π on m = 0."""
    t, p = np.radians(lat_deg + 90.0), np.radians(lon_deg + 180.0)
    ct, st = np.cos(t), np.sqrt(1.0 - np.cos(t) ** 2)
    k1, k21, k22 = math.sqrt(3 / (4 * math.pi)), math.sqrt(15 / (4 * math.pi)), math.sqrt(15 / (16 * math.pi))
    k20 = math.sqrt(5 / (16 * math.pi))
    cols = [
        math.pi * 0.5 / math.sqrt(math.pi) * np.ones_like(t),
        k1 * st * np.sin(p),
        math.pi * k1 * ct,
        k1 * st * np.cos(p),
        k22 * st**2 * np.sin(2 * p),
        k21 * st * ct * np.sin(p),
        math.pi * k20 * (3 * ct**2 - 1),
        k21 * st * ct * np.cos(p),
        k22 * st**2 * np.cos(2 * p),
    ]
    return np.stack(cols, 1)


def test_satclip_convention_matches_its_formulas():
    pts = sample_points(30, seed=2)
    out = get_encoder("sh", degree=3, convention="satclip")(pts).numpy()
    # atol 1e-8: SatCLIP's sin θ = √(1 − cos²θ) loses digits near the poles; geoenc uses cos φ̂ exactly
    np.testing.assert_allclose(out, _satclip_by_hand(pts[:, 0].numpy(), pts[:, 1].numpy()), atol=1e-8)
    # two of SatCLIP's generated constants, as printed in its source: π/(2√π) and π·√(3/4π)
    assert abs(out[0, 0] - 0.886226925452758) < 1e-12
    north = get_encoder("sh", degree=2, convention="satclip")(torch.tensor([[0.0, 90.0]], dtype=torch.float64))
    assert abs(north[0, 2].item() + 1.53499006191973) < 1e-12  # cos θ = −1 at the north pole


def test_satclip_relation_to_orthonormal():
    pts = sample_points(30, seed=3)
    L = 12
    a = get_encoder("sh", degree=L)(pts)
    b = get_encoder("sh", degree=L, convention="satclip")(pts)
    ls = torch.cat([torch.full((2 * l + 1,), l) for l in range(L)])
    ms = torch.cat([torch.arange(-l, l + 1) for l in range(L)])
    one = torch.ones(ls.shape, dtype=torch.float64)
    factor = torch.where(ls % 2 == 1, -one, one) * torch.where(ms == 0, math.pi * one, one)
    torch.testing.assert_close(b, a * factor, atol=1e-12, rtol=0)


def test_degree_sets_dimension():
    for L in (1, 3, 10, 40):
        assert get_encoder("sh", degree=L).embedding_dim == L * L
