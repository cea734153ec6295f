"""Model directories: round trips for every encoder, and refusals of damaged or foreign folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from geoenc.encoders import encoder_names
from geoenc.errors import ModelError, OutputError
from geoenc.models import FORMAT_VERSION, LocationEncoder, load_model
from geoenc.training import train
from tests.training.helpers import quadrants, small_config, smooth_values

GRID = np.array([[-180.0, -90.0], [180.0, 90.0], [0.0, 0.0], [12.5, 41.9], [-74.0, 40.7], [179.99, -45.0]])


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "m"
    res = train(small_config(epochs=2, val_fraction=0.25), quadrants(), out_dir=out)
    return res, out


@pytest.mark.parametrize("name", encoder_names())
def test_every_encoder_round_trips(tmp_path, name):
    res = train(
        small_config(method=name, net=None, net_params={}, epochs=1, batch_size=128),
        quadrants(120),
        out_dir=tmp_path / "m",
    )
    loaded = load_model(tmp_path / "m")
    assert loaded.encoder_name == name and loaded.net_name == res.config["net"]["name"]
    before = res.loaded.predict(GRID)
    after = loaded.predict(GRID)
    torch.testing.assert_close(after, before)
    assert torch.isfinite(after).all()
    emb = loaded.embed(torch.as_tensor(GRID))
    assert emb.shape == (len(GRID), loaded.embedding_dim) and emb.dtype == torch.float32


def test_loaded_model_api(saved):
    res, out = saved
    m = load_model(out)
    assert m.task == "classification" and m.classes == ["NE", "NW", "SE", "SW"]
    assert m.encoder_name == "xyz" and m.config["format_version"] == FORMAT_VERSION
    assert m.config["loss"] == "ce" and m.config["seed"] == 0 and "torch_version" in m.config
    p = m.predict(GRID)
    assert p.shape == (len(GRID), 4)
    torch.testing.assert_close(p.sum(1), torch.ones(len(GRID)))
    # a row alone equals the same row in a batch; numpy and tensor input agree
    torch.testing.assert_close(m.predict(GRID[3:4])[0], p[3])
    torch.testing.assert_close(m.embed(GRID), m.embed(torch.as_tensor(GRID, dtype=torch.float32)))
    # embed is the net's output before the head
    torch.testing.assert_close(m.embed(GRID), res.model.location(torch.as_tensor(GRID, dtype=torch.float32)))
    assert isinstance(res.model.location, LocationEncoder) and res.model.location.embedding_dim == 16


def test_regression_round_trip_keeps_units(tmp_path):
    res = train(small_config(epochs=3), smooth_values(), out_dir=tmp_path / "r")
    m = load_model(tmp_path / "r")
    torch.testing.assert_close(m.predict(GRID), res.loaded.predict(GRID))
    assert m.predict(GRID).abs().mean() > 50  # in the label's units (≈100), not standardised


def test_fitted_encoder_state_is_saved(tmp_path):
    res = train(
        small_config(method="rbf", method_params={"num_anchors": 20}, epochs=1), quadrants(100), out_dir=tmp_path / "m"
    )
    anchors = res.model.location.position.anchors.clone()
    m = load_model(tmp_path / "m")
    torch.testing.assert_close(m.model.location.position.anchors, anchors)


def test_existing_output_needs_overwrite(saved, tmp_path):
    out = tmp_path / "m"
    out.mkdir()
    with pytest.raises(OutputError, match="--overwrite"):
        train(small_config(epochs=1), quadrants(40), out_dir=out)
    train(small_config(epochs=1), quadrants(40), out_dir=out, overwrite=True)
    assert (out / "model.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folders left


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize(
    "damage, text",
    [
        (
            lambda d: (d / "config.json").write_text(
                json.dumps({**json.loads((d / "config.json").read_text()), "format_version": FORMAT_VERSION + 1})
            ),
            "newer",
        ),
        (
            lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:-8] + b"\0" * 8),
            "checksum",
        ),
        (lambda d: (d / "model.safetensors").unlink(), "no model.safetensors"),
        (lambda d: (d / "config.json").unlink(), "no config.json"),
        (lambda d: (d / "config.json").write_text("{not json"), "not valid JSON"),
        (
            lambda d: (d / "config.json").write_text(
                json.dumps({**json.loads((d / "config.json").read_text()), "n_outputs": 7})
            ),
            "4 classes but n_outputs is 7",
        ),
        (
            lambda d: (d / "config.json").write_text(
                json.dumps({**json.loads((d / "config.json").read_text()), "net": {"name": "resnet"}})
            ),
            "cannot be built",
        ),
    ],
)
def test_damaged_model_dirs_are_refused(saved, tmp_path, damage, text):
    d = _copy(saved[1], tmp_path / "m")
    damage(d)
    with pytest.raises(ModelError, match=text) as info:
        load_model(d)
    assert "\n" not in str(info.value)


def test_weights_from_another_model_are_refused(saved, tmp_path):
    other = tmp_path / "other"
    train(small_config(epochs=1, seed=9), quadrants(), out_dir=other)
    d = _copy(saved[1], tmp_path / "m")
    (d / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())
    with pytest.raises(ModelError, match="checksum"):
        load_model(d)


def test_loading_never_unpickles(saved, monkeypatch):
    import pickle

    def boom(*a, **k):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(torch, "load", boom)
    load_model(saved[1]).predict(GRID)


def test_not_a_model_dir(tmp_path):
    with pytest.raises(ModelError, match="not a directory"):
        load_model(tmp_path / "missing")


def test_headless_embedding_model_round_trips(tmp_path):
    from geoenc.models import build_model, write_model_dir

    torch.manual_seed(0)
    model = build_model("xyz", {}, "linear", {"out": 8}, "embedding", 0)
    assert model.head is None
    cfg = {
        "encoder": {"name": "xyz", "params": {}},
        "net": {"name": "linear", "params": model.location.net.params},
        "task": "embedding",
        "n_outputs": 0,
        "classes": None,
    }
    write_model_dir(tmp_path / "e", model, cfg)
    m = load_model(tmp_path / "e")
    torch.testing.assert_close(m.embed(GRID), model.location(torch.as_tensor(GRID, dtype=torch.float32)))
    with pytest.raises(ModelError, match="no prediction head"):
        m.predict(GRID)


def test_weights_that_are_not_finite_are_refused(tmp_path, class_model):
    """A diverged model (NaN weights) must not load; it used to predict with ~99.9 % 'accuracy'."""
    import json
    import shutil

    from safetensors.torch import load_file, save_file

    from geoenc.models.checkpoint import sha256_file

    bad = tmp_path / "bad"
    shutil.copytree(class_model, bad)
    tensors = load_file(str(bad / "model.safetensors"))
    first = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[first] = tensors[first] * float("nan")
    save_file(tensors, str(bad / "model.safetensors"), metadata={"format": "pt"})
    cfg = json.loads((bad / "config.json").read_text())
    cfg["weights_sha256"] = sha256_file(bad / "model.safetensors")  # a consistent folder, just diverged
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="NaN or infinite values"):
        load_model(bad)
