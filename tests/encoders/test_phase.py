"""The exact phase reduction: table path against the direct float64 formula, and against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from geoenc.encoders.phase import LinearPhase, reduce_turns


def _table(freq_scale: float, seed: int = 0, n_coords: int = 2, width: int = 24) -> LinearPhase:
    g = torch.Generator().manual_seed(seed)
    freqs = torch.randn(n_coords, width, generator=g, dtype=torch.float64) * freq_scale
    consts = torch.rand(2, width, generator=g, dtype=torch.float64) * 10 - 5
    bags = [((0,), 0), ((1,), 1), ((0,), 1)] if n_coords == 2 else [(tuple(range(n_coords)), 0)]
    return LinearPhase(freqs, lo=[-180.0] * n_coords, hi=[180.0] * n_coords, consts=consts, bags=bags)


def _points(n: int, n_coords: int = 2, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, n_coords, generator=g, dtype=torch.float64) * 360 - 180


def _wrap(d: torch.Tensor) -> torch.Tensor:
    """Phase differences modulo 2π, in [−π, π]."""
    return torch.remainder(d + math.pi, 2 * math.pi) - math.pi


@pytest.mark.parametrize("freq_scale", [1e-3, 1.0, 1e3, 1e6])
def test_table_path_matches_float64(freq_scale):
    lp = _table(freq_scale)
    x = _points(500)
    ref = lp.phases64(x)
    got = lp.phases(x, torch.float32)
    assert got.dtype == torch.float32 and got.shape == ref.shape == (500, 3 * 24)
    assert _wrap(got.double() - ref).abs().max().item() < 3e-6
    # more than one level of digits once the grid is fine enough
    if freq_scale >= 1e3:
        assert lp.plan.levels >= 2


def test_sum_of_coordinates_in_one_bag():
    lp = _table(50.0, n_coords=3)
    x = _points(300, n_coords=3)
    assert _wrap(lp.phases(x, torch.float32).double() - lp.phases64(x)).abs().max().item() < 3e-6


def test_float64_path_is_the_numpy_formula():
    lp = _table(7.0)
    x = _points(50)
    f, c = lp.freqs.numpy(), lp.consts.numpy()
    t = np.stack([c[0] + x[:, 0:1].numpy() * f[0], c[1] + x[:, 1:2].numpy() * f[1], c[1] + x[:, 0:1].numpy() * f[0]], 1)
    expected = 2 * np.pi * (t - np.round(t))
    np.testing.assert_allclose(lp.phases64(x).numpy(), expected.reshape(50, -1), atol=1e-9)


def test_outside_the_range_stays_correct_with_less_precision():
    lp = _table(1.0)
    x = _points(100) * 3  # up to 540°, beyond the table's ±180°
    err = _wrap(lp.phases(x, torch.float32).double() - lp.phases64(x)).abs().max().item()
    assert err < 1e-3


def test_nan_coordinates_give_nan_phases():
    lp = _table(1.0)
    x = _points(4)
    x[1, 0] = float("nan")
    got = lp.phases(x, torch.float32)
    # the bags that use the NaN coordinate are NaN (the others may be too); other points are untouched
    assert torch.isnan(got[1, :24]).all() and torch.isnan(got[1, 48:]).all()
    assert torch.isfinite(got[[0, 2, 3]]).all()


def test_gradient_reaches_the_coordinates():
    lp = _table(2.0)
    x = _points(20).requires_grad_(True)
    lp.phases(x, torch.float32).sum().backward()
    f = lp.freqs
    # dφ/dc_j = 2π Σ_k w_jk over the bags that use c_j: bags 0 and 2 use c_0, bag 1 uses c_1
    expected = torch.stack((2 * f[0].sum(), f[1].sum())) * 2 * math.pi
    torch.testing.assert_close(x.grad, expected.expand(20, 2), rtol=1e-5, atol=1e-3)


def test_reduce_turns_is_exact_and_bounded():
    t = torch.tensor([0.25, -0.75, 1e9 + 0.5, 3.0], dtype=torch.float64)
    got = reduce_turns(t)
    assert got.abs().max().item() <= math.pi
    torch.testing.assert_close(got[:2], torch.tensor([math.pi / 2, math.pi / 2], dtype=torch.float64))
    assert got[3].item() == 0.0
