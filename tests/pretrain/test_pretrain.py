"""pretrain(): the model directory it writes, determinism, and refused inputs."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import torch
from safetensors.torch import load_file

from geoenc.errors import InputError, ParameterError, UnknownNameError
from geoenc.io import Points
from geoenc.models import load_model
from geoenc.pretrain import PretrainConfig, pretrain
from geoenc.pretrain.loop import EXTRAS_FILE, KIND
from geoenc.training import PointData
from tests.pretrain.helpers import small_config, toy_data, toy_table


def test_model_dir_loads_and_embeds_like_the_trained_encoder(tmp_path):
    data = toy_data(128)
    res = pretrain(small_config(epochs=2), data, out_dir=tmp_path / "m")
    assert res.out_dir == tmp_path / "m"
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["kind"] == KIND and cfg["pretrain"]["objective"] == "mc-bld"
    assert cfg["task"] == "embedding" and cfg["n_outputs"] == 0
    assert all(k.startswith("location.") for k in load_file(str(tmp_path / "m" / "model.safetensors")))
    assert cfg["pretrain"]["feature_dim"] == 5 and len(cfg["pretrain"]["feature_stats"]["std"]) == 5
    assert cfg["encoder"] == {"name": "xyz", "params": {}} and cfg["net"]["params"]["out"] == 16
    loaded = load_model(tmp_path / "m")
    assert loaded.embedding_dim == 16
    res.location.eval()
    with torch.no_grad():
        expected = res.location(torch.as_tensor(data.lonlat, dtype=torch.float32))
    assert torch.allclose(loaded.embed(data.lonlat), expected, atol=1e-6)
    extras = load_file(str(tmp_path / "m" / EXTRAS_FILE))
    assert any(k.startswith("projection.") for k in extras) and not any(k.startswith("location.") for k in extras)
    log = (tmp_path / "m" / "train_log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,train_loss,train_loss_b,train_loss_l,train_loss_d") and len(log) == 3
    assert "objective: mc-bld" in (tmp_path / "m" / "config.yaml").read_text()


def test_mse_and_clip_extras(tmp_path):
    mse = pretrain(small_config(objective="mse", epochs=1), toy_data(64), out_dir=tmp_path / "mse")
    assert mse.model.projection is None and mse.model.head.out_features == 5
    assert "head.weight" in load_file(str(tmp_path / "mse" / EXTRAS_FILE))
    clip = pretrain(small_config(objective="clip", epochs=1), toy_data(64))
    assert "temperature" in clip.history[0]


def test_same_seed_same_weights_other_seed_differs():
    a = pretrain(small_config(epochs=2, seed=4), toy_data(128)).location.state_dict()
    b = pretrain(small_config(epochs=2, seed=4), toy_data(128)).location.state_dict()
    c = pretrain(small_config(epochs=2, seed=5), toy_data(128)).location.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_points_with_a_feature_column():
    lon, lat, attrs = toy_table(96)
    res = pretrain(small_config(features="feat", epochs=1), Points(lon, lat, attrs))
    assert res.config["pretrain"]["feature_column"] == "feat" and res.config["n_train"] == 96


def _points(feat_values, typ=None):
    typ = typ or pa.list_(pa.float32())
    n = len(feat_values)
    return Points(np.linspace(-10, 10, n), np.linspace(-5, 5, n), pa.table({"feat": pa.array(feat_values, typ)}))


@pytest.mark.parametrize(
    "make, error, text",
    [
        (lambda: _points([[1.0, 2.0], [3.0], [4.0, 5.0]]), InputError, "different lengths"),
        (lambda: _points([[1.0, float("nan")], [3.0, 1.0], [4.0, 5.0]]), InputError, "NaN"),
        (lambda: _points([[1.0, 2.0], None, [4.0, 5.0]]), InputError, "empty rows"),
        (lambda: _points([[1.0, 2.0]]), InputError, "at least 2 points"),
        (lambda: PointData(np.zeros((3, 2))), InputError, "feature column"),
    ],
)
def test_bad_features(tmp_path, make, error, text):
    with pytest.raises(error, match=text):
        pretrain(small_config(features="feat"), make(), out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_feature_column(tmp_path):
    with pytest.raises(InputError, match="feature column 'other' not found"):
        pretrain(small_config(features="other"), _points([[1.0], [2.0]]), out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "kw, error",
    [
        ({"objective": "infonce"}, UnknownNameError),
        ({"temperatures": {"x": 1.0}}, ParameterError),
        ({"temperatures": {"b": 0.0}}, ParameterError),
        ({"weights": {"l": -1.0}}, ParameterError),
        ({"batch_size": 1}, ParameterError),
        ({"epochs": 0}, ParameterError),
        ({"device": "tpu"}, ParameterError),
    ],
)
def test_bad_settings(kw, error):
    with pytest.raises(error):
        PretrainConfig(**kw).validate()
