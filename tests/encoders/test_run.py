"""encode_array: the one entry point for encoding arrays (API, CLI, workflows)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geoenc.encoders import get_encoder
from geoenc.encoders.run import encode_array, tune_allocator
from geoenc.errors import ParameterError
from tests.encoders.helpers import sample_points


@pytest.mark.parametrize("name", ["sphereM", "grid", "nerf", "rff", "sh", "wrap", "xyz", "geoclip"])
def test_matches_the_encoder_on_float64_points(name):
    enc = get_encoder(name)
    pts = sample_points(1000, seed=2).numpy()
    got = encode_array(enc, pts, block_rows=97)
    with torch.no_grad():
        expected = enc(torch.from_numpy(pts), dtype=torch.float32).numpy()
    assert got.dtype == np.float32 and got.shape == (len(pts), enc.embedding_dim)
    np.testing.assert_array_equal(got, expected)


def test_writes_into_out_and_keeps_float64():
    enc = get_encoder("sphereC", frequency_num=4)
    pts = sample_points(50).numpy()
    big = np.full((len(pts) + 10, enc.embedding_dim), np.nan, dtype=np.float32)
    res = encode_array(enc, pts, out=big[5 : 5 + len(pts)])
    assert np.shares_memory(res, big) and np.isnan(big[:5]).all() and np.isnan(big[-5:]).all()
    f64 = encode_array(enc, pts, dtype=torch.float64)
    assert f64.dtype == np.float64
    np.testing.assert_allclose(res, f64, atol=1e-6)


def test_fine_scales_stay_faithful_from_float64_coordinates():
    enc = get_encoder("sphereM", min_radius=1e-6)  # TorchSpatial's CLI default scale
    pts = sample_points(500, seed=3).numpy()
    np.testing.assert_allclose(encode_array(enc, pts), encode_array(enc, pts, dtype=torch.float64), atol=2e-6)


def test_bad_arguments():
    enc = get_encoder("xyz")
    with pytest.raises(ParameterError, match=r"\(N, 2\)"):
        encode_array(enc, np.zeros((3, 3)))
    with pytest.raises(ParameterError, match="out must be"):
        encode_array(enc, np.zeros((3, 2)), out=np.zeros((3, 3), dtype=np.float64))
    with pytest.raises(ParameterError, match="dtype"):
        encode_array(enc, np.zeros((3, 2)), dtype=torch.bfloat16)


def test_empty_input():
    enc = get_encoder("sphereM")
    assert encode_array(enc, np.zeros((0, 2))).shape == (0, enc.embedding_dim)


def test_tune_allocator_is_idempotent():
    assert tune_allocator() == tune_allocator()


def test_api_encode_uses_float64_coordinates():
    import geoenc

    pts = sample_points(200, seed=5).numpy()
    got = geoenc.encode(pts, "grid", min_radius=1e-6)
    ref = geoenc.encode(pts, "grid", dtype="float64", min_radius=1e-6)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, atol=2e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    enc = get_encoder("sphereM")
    pts = sample_points(2000).numpy()
    cpu = encode_array(enc, pts)
    gpu = encode_array(get_encoder("sphereM"), pts, device="cuda")
    np.testing.assert_allclose(gpu, cpu, atol=2e-6)


def test_large_outputs_are_ordinary_writable_arrays(monkeypatch):
    import pickle

    import geoenc.encoders.run as run

    monkeypatch.setattr(run, "POPULATE_BYTES", 1)  # every output through the mapped path
    a = run.empty_array((1000, 7), np.float32)
    assert a.shape == (1000, 7) and a.dtype == np.float32 and a.flags.writeable and a.flags.c_contiguous
    a[:] = 3.0
    assert pickle.loads(pickle.dumps(a)).sum() == 21000.0
    enc = get_encoder("grid", frequency_num=3)
    pts = sample_points(100).numpy()
    np.testing.assert_array_equal(encode_array(enc, pts), enc(torch.from_numpy(pts), dtype=torch.float32).numpy())
    assert run.empty_array((0, 5), np.float64).shape == (0, 5)
