"""Data-dependent state: rbf anchors (fit), tile's table, and where the random state lives."""

from __future__ import annotations

import pytest
import torch

from geoenc.encoders import get_encoder
from geoenc.errors import GeoencError
from tests.encoders.helpers import sample_points


def test_rbf_refuses_to_encode_before_fit():
    with pytest.raises(GeoencError, match="fit"):
        get_encoder("rbf")(sample_points(3))


def test_rbf_anchors_come_from_the_points_and_are_seeded():
    pts = sample_points(500, seed=1)
    a = get_encoder("rbf", num_anchors=50).fit(pts, seed=4).anchors
    b = get_encoder("rbf", num_anchors=50).fit(pts, seed=4).anchors
    c = get_encoder("rbf", num_anchors=50).fit(pts, seed=5).anchors
    assert torch.equal(a, b) and not torch.equal(a, c)
    members = {tuple(p) for p in pts.tolist()}
    assert all(tuple(p) in members for p in a.tolist())
    assert len({tuple(p) for p in a.tolist()}) == 50  # without replacement


def test_rbf_fit_seed_defaults_to_the_parameter():
    pts = sample_points(500, seed=1)
    a = get_encoder("rbf", num_anchors=20, seed=9).fit(pts).anchors
    b = get_encoder("rbf", num_anchors=20).fit(pts, seed=9).anchors
    assert torch.equal(a, b)


def test_rbf_fewer_points_than_anchors():
    enc = get_encoder("rbf", num_anchors=10).fit(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert enc(torch.tensor([[1.0, 2.0]])).shape == (1, 10)


def test_rbf_anchors_in_state_dict():
    keys = set(get_encoder("rbf").state_dict())
    assert {"anchors", "fitted"} <= keys


def test_rbf_zero_points():
    with pytest.raises(GeoencError):
        get_encoder("rbf").fit(torch.zeros(0, 2))


def test_parameter_free_encoders_have_empty_state():
    for name in (
        "wrap",
        "wrap_ffn",
        "grid",
        "theory",
        "xyz",
        "nerf",
        "sphereC",
        "sphereC+",
        "sphereM",
        "sphereM+",
        "dfs",
        "sh",
    ):
        assert get_encoder(name).state_dict() == {}, name


def test_tile_is_learnable_and_its_table_trains():
    enc = get_encoder("tile", cell_size=30.0, dim=4)
    assert [n for n, _ in enc.named_parameters()] == ["table"]
    opt = torch.optim.SGD(enc.parameters(), lr=0.5)
    x = torch.tensor([[10.0, 10.0]])
    before = enc(x).detach().clone()
    loss = (enc(x) - 1.0).pow(2).sum()
    loss.backward()
    opt.step()
    assert not torch.equal(enc(x).detach(), before)


def test_bad_input_shape():
    from geoenc.errors import ParameterError

    with pytest.raises(ParameterError, match=r"\(N, 2\)"):
        get_encoder("xyz")(torch.zeros(4, 3))
