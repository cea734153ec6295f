"""`train --init/--freeze-encoder/--train-fraction`: starting from a pretrained location encoder."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import torch

from geoenc.errors import ModelError, ParameterError
from geoenc.io import Points, write_points
from geoenc.models import load_model
from geoenc.training import TrainConfig, train


def _points(n=400, seed=0):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return Points(lon, lat, pa.table({"y": np.where(lat > 10, "n", np.where(lon > 0, "se", "sw"))}))


def _cfg(**kw):
    base = dict(
        label="y",
        method="sphereC",
        method_params={"frequency_num": 4},
        net="ffn",
        net_params={"hidden": 32, "out": 16},
        epochs=2,
        batch_size=64,
        seed=0,
        device="cpu",
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    out = tmp_path_factory.mktemp("init") / "pre"
    train(_cfg(seed=7), _points(seed=1), out_dir=out)
    return out


def _location_state(model):
    return {k: v.clone() for k, v in model.location.state_dict().items()}


def test_frozen_init_keeps_the_pretrained_encoder_exactly(pretrained):
    before = _location_state(load_model(pretrained).model)
    result = train(_cfg(init=str(pretrained), freeze_encoder=True, epochs=3), _points())
    after = _location_state(result.model)
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k
    assert result.config["init"] == str(pretrained) and result.config["freeze_encoder"] is True


def test_unfrozen_init_starts_from_but_moves_away(pretrained):
    before = _location_state(load_model(pretrained).model)
    result = train(_cfg(init=str(pretrained), epochs=2), _points())
    changed = [k for k in before if not torch.equal(before[k], result.model.location.state_dict()[k])]
    assert changed


def test_train_fraction_is_stratified_and_seeded():
    a = train(_cfg(train_fraction=0.1, epochs=1), _points())
    b = train(_cfg(train_fraction=0.1, epochs=1), _points())
    assert a.config["n_train"] == b.config["n_train"]
    assert 30 <= a.config["n_train"] <= 50  # ~10 % of 400, at least one per class
    assert all(
        torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True)
    )


def test_bad_init_requests(pretrained):
    with pytest.raises(ParameterError, match="--init"):
        train(_cfg(freeze_encoder=True), _points())
    with pytest.raises(ParameterError, match="train-fraction"):
        train(_cfg(train_fraction=0.0), _points())
    with pytest.raises(ModelError):
        train(_cfg(init=str(pretrained), method="xyz", method_params={}), _points())


def test_cli_init_uses_the_pretrained_encoder(cli, tmp_path, pretrained):
    pts = _points()
    src = tmp_path / "train.parquet"
    write_points(src, pts.lon, pts.lat, pts.attrs)
    out = tmp_path / "model"
    res = cli(
        "train",
        src,
        "--label",
        "y",
        "--init",
        pretrained,
        "--freeze-encoder",
        "--train-fraction",
        "0.5",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.stderr
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["encoder"]["name"] == "sphereC" and cfg["encoder"]["params"]["frequency_num"] == 4
    assert cfg["freeze_encoder"] is True and cfg["train_fraction"] == 0.5
    res = cli("train", src, "--label", "y", "--freeze-encoder", "-o", tmp_path / "m2")
    assert res.exit_code == 2 and "--init" in res.stderr
    assert not (tmp_path / "m2").exists()


def test_cli_init_with_another_method_is_a_clear_model_error(cli, tmp_path, pretrained):
    pts = _points()
    src = tmp_path / "train.parquet"
    write_points(src, pts.lon, pts.lat, pts.attrs)
    res = cli("train", src, "--label", "y", "--init", pretrained, "-m", "xyz", "--epochs", "1", "-o", tmp_path / "m")
    assert res.exit_code == 1, res.stderr
    assert "use the same --method" in res.stderr and "xyz" in res.stderr
    assert not (tmp_path / "m").exists()
