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


def test_rbf_seed_parameter_wins_over_the_run_seed_and_is_recorded(cli, tmp_path):
    """`-p seed=1` and `-p seed=99` used to give identical anchors: the run's --seed overrode the parameter."""
    import json

    import pyarrow.parquet as pq

    from geoenc.io import write_points

    pts = sample_points(300, seed=2).numpy()
    src = tmp_path / "p.parquet"
    write_points(src, pts[:, 0], pts[:, 1])
    out = {}
    for s in (1, 99):
        dest = tmp_path / f"e{s}.parquet"
        assert cli("encode", src, "-m", "rbf", "-p", "num_anchors=10", "-p", f"seed={s}", "-o", dest).exit_code == 0
        table = pq.read_table(dest)
        assert json.loads(table.schema.metadata[b"geoenc"])["params"]["seed"] == s
        out[s] = table.column("embedding").combine_chunks().flatten().to_numpy()
    assert not (out[1] == out[99]).all()
    # without the parameter the run's --seed decides, and provenance names it
    dest = tmp_path / "run.parquet"
    assert cli("encode", src, "-m", "rbf", "-p", "num_anchors=10", "--seed", "7", "-o", dest).exit_code == 0
    assert json.loads(pq.read_schema(dest).metadata[b"geoenc"])["params"]["seed"] == 7
