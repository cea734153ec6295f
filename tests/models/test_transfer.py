"""apply_pretrained (exact copy, freezing, refusals) and the stratified few-shot subsets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from geoenc.errors import ModelError, ParameterError
from geoenc.models import build_model, load_model
from geoenc.models.data import stratified_fraction
from geoenc.models.transfer import apply_pretrained, encoder_settings
from geoenc.pretrain import pretrain
from tests.pretrain.helpers import SMALL_NET, small_config, toy_data


@pytest.fixture(scope="module")
def pretrained_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("pre") / "enc"
    pretrain(small_config(epochs=2), toy_data(128), out_dir=out)
    return out


def _fresh(method="xyz", params=None, net_params=None, task="classification", n=3):
    torch.manual_seed(123)
    return build_model(method, params or {}, "ffn", net_params or dict(SMALL_NET), task, n)


def test_apply_pretrained_copies_the_location_encoder_exactly(pretrained_dir):
    model = _fresh()
    head_before = {k: v.clone() for k, v in model.head.state_dict().items()}
    apply_pretrained(model, pretrained_dir)
    saved = load_model(pretrained_dir).model.location.state_dict()
    mine = model.location.state_dict()
    assert saved.keys() == mine.keys()
    assert all(torch.equal(saved[k], mine[k]) for k in saved)
    assert all(torch.equal(head_before[k], v) for k, v in model.head.state_dict().items())  # head untouched
    assert all(p.requires_grad for p in model.parameters())


def test_freeze_encoder_leaves_only_the_head_trainable(pretrained_dir):
    model = _fresh()
    apply_pretrained(model, pretrained_dir, freeze_encoder=True)
    assert not any(p.requires_grad for p in model.location.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    out = model(torch.tensor([[10.0, 20.0], [-30.0, 5.0]]))
    out.sum().backward()
    assert all(p.grad is None for p in model.location.parameters())
    assert all(p.grad is not None for p in model.head.parameters())


def test_fitted_encoder_state_is_adopted(tmp_path):
    """rbf anchors are fitted on the pretraining points: a fresh, unfitted model takes them over."""
    params = {"num_anchors": 12, "kernel_size": 20.0}
    out = tmp_path / "rbf"
    pretrain(small_config(method="rbf", method_params=params, epochs=1), toy_data(96), out_dir=out)
    model = _fresh("rbf", params)
    apply_pretrained(model, out)
    saved = load_model(out).model.location.state_dict()
    assert all(torch.equal(saved[k], v) for k, v in model.location.state_dict().items())
    x = torch.tensor([[1.0, 2.0], [100.0, -40.0]])
    model.eval()
    assert torch.allclose(model.location(x), load_model(out).embed(x))


@pytest.mark.parametrize(
    "kind, build",
    [
        ("encoder", lambda: _fresh("sphereM", {"frequency_num": 4})),
        ("net", lambda: _fresh(net_params={**SMALL_NET, "hidden": 48})),
    ],
)
def test_incompatible_model_is_one_line_model_error(pretrained_dir, kind, build):
    with pytest.raises(ModelError) as e:
        apply_pretrained(build(), pretrained_dir)
    msg = str(e.value)
    assert "\n" not in msg and kind in msg and ("--method" in msg or "--net" in msg)


def test_bad_init_dirs(pretrained_dir, tmp_path):
    with pytest.raises(ModelError, match="not a directory"):
        apply_pretrained(_fresh(), tmp_path / "missing")
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for f in pretrained_dir.iterdir():
        if f.is_file():
            (tampered / f.name).write_bytes(f.read_bytes())
    data = bytearray((tampered / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (tampered / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        apply_pretrained(_fresh(), tampered)
    newer = json.loads((pretrained_dir / "config.json").read_text())
    newer["format_version"] = 99
    (tampered / "config.json").write_text(json.dumps(newer))
    with pytest.raises(ModelError, match="upgrade geoenc"):
        apply_pretrained(_fresh(), tampered)


def test_stratified_fraction():
    labels = np.array(["a"] * 100 + ["b"] * 20 + ["c"] * 3)
    idx = stratified_fraction(labels, 0.1, seed=0)
    counts = {c: int((labels[idx] == c).sum()) for c in "abc"}
    assert counts == {"a": 10, "b": 2, "c": 1}  # every class keeps at least one point
    assert np.array_equal(idx, np.sort(idx)) and len(set(idx)) == len(idx)
    assert np.array_equal(idx, stratified_fraction(labels, 0.1, seed=0))
    assert not np.array_equal(idx, stratified_fraction(labels, 0.1, seed=1))
    assert np.array_equal(stratified_fraction(labels, 1.0, seed=5), np.arange(len(labels)))
    assert len(stratified_fraction(np.array([0, 1] * 50), 0.2, seed=0)) == 20


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, "half", float("nan")])
def test_stratified_fraction_refuses_bad_fractions(bad):
    with pytest.raises(ParameterError):
        stratified_fraction(["a", "b"], bad, seed=0)


def test_encoder_settings_rebuild_a_compatible_model(pretrained_dir):
    settings = encoder_settings(pretrained_dir)
    assert settings["method"] == "xyz" and settings["net"] == "ffn" and settings["net_params"]["out"] == 16
    model = build_model(
        settings["method"], settings["method_params"], settings["net"], settings["net_params"], "regression", 1
    )
    apply_pretrained(model, pretrained_dir)  # no ModelError
