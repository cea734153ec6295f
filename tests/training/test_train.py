"""The training loop: each task and loss learns, seeds make runs identical, interrupts resume, bad data fails."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from geoenc.errors import InputError, ModelError, ParameterError, UnknownNameError
from geoenc.io.atomic import MANIFEST
from geoenc.models import load_model
from geoenc.training import PointData, TrainConfig, split_validation, train
from geoenc.training.losses import an_full_loss, random_sphere_lonlat
from tests.training.helpers import quadrants, small_config, smooth_values


def test_classification_ce_learns_and_saves(tmp_path):
    res = train(small_config(val_fraction=0.25), quadrants(), out_dir=tmp_path / "m")
    assert res.config["task"] == "classification" and res.config["loss"] == "ce"
    assert res.config["classes"] == ["NE", "NW", "SE", "SW"]
    assert res.metrics["val"]["top1"] > 0.8
    assert res.config["n_train"] == 300 and res.config["n_val"] == 100
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert files == {"model.safetensors", "config.json", "metrics.json", "train_log.csv", "config.yaml", MANIFEST}
    log = (tmp_path / "m" / "train_log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,train_loss,lr,val_top1") and len(log) == 1 + res.metrics["epochs_run"]
    assert json.loads((tmp_path / "m" / "metrics.json").read_text())["val"]["n"] == 100


def test_an_full_loss_learns():
    res = train(small_config(loss="an_full", epochs=6, val_fraction=0.25), quadrants())
    assert res.metrics["val"]["top1"] > 0.7
    probs = res.loaded.predict(torch.tensor([[90.0, 45.0]]))
    assert ((probs >= 0) & (probs <= 1)).all()  # sigmoid scores, not a softmax


def test_multilabel_bce():
    d = quadrants()
    labels = np.empty(len(d), dtype=object)
    labels[:] = [[r, "N" if r.startswith("N") else "S"] for r in d.labels]
    res = train(small_config(), PointData(d.lonlat, labels))
    assert res.config["task"] == "multilabel" and res.config["loss"] == "bce"
    assert res.config["classes"] == ["N", "NE", "NW", "S", "SE", "SW"]
    assert res.metrics["train"]["top1"] > 0.8


@pytest.mark.parametrize("loss", ["mse", "l1"])
def test_regression_learns_in_label_units(loss):
    res = train(small_config(loss=loss, epochs=8, val_fraction=0.2), smooth_values())
    assert res.config["task"] == "regression"
    stats = res.config["target_stats"]
    assert stats["mean"] == pytest.approx(100, abs=3) and stats["std"] > 5
    assert res.metrics["val"]["r2"] > 0.7
    pred = res.loaded.predict(np.array([[0.0, 60.0], [0.0, -60.0]]))
    assert pred.shape == (2,) and pred[0] > pred[1] + 10  # back in the label's units


def test_features_column_is_used():
    d = quadrants()
    # the label is only in the features: the location is noise
    rng = np.random.default_rng(1)
    lonlat = np.column_stack([rng.uniform(-180, 180, len(d)), rng.uniform(-80, 80, len(d))])
    codes = np.array([["NE", "NW", "SE", "SW"].index(x) for x in d.labels])
    feats = np.eye(4, dtype=np.float32)[codes] + 0.01 * rng.normal(size=(len(d), 4)).astype(np.float32)
    res = train(small_config(features="feat", epochs=6), PointData(lonlat, d.labels, feats))
    assert res.config["features"] == {"column": "feat", "dim": 4, "hidden": 256}
    assert res.metrics["train"]["top1"] > 0.9
    with pytest.raises(ModelError, match="feature"):
        res.loaded.predict(lonlat)


def test_same_seed_gives_identical_weights_and_other_seed_differs():
    a = train(small_config(seed=3, val_fraction=0.2), quadrants()).model.state_dict()
    b = train(small_config(seed=3, val_fraction=0.2), quadrants()).model.state_dict()
    c = train(small_config(seed=4, val_fraction=0.2), quadrants()).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_per_batch_encoding_matches_cached_encoding():
    a = train(small_config(cache_encoding=True), quadrants()).model.state_dict()
    b = train(small_config(cache_encoding=False), quadrants()).model.state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)


def test_early_stopping_restores_best_epoch():
    res = train(small_config(epochs=40, patience=1, lr=0.05, val_fraction=0.25), quadrants())
    assert res.metrics["epochs_run"] < 40
    best = max(r["val_top1"] for r in res.history)
    assert res.metrics["val"]["top1"] == pytest.approx(best)
    assert res.history[res.best_epoch - 1]["val_top1"] == pytest.approx(best)


def test_interrupt_saves_checkpoint_and_resume_finishes(tmp_path):
    out = tmp_path / "m"

    def stop_at_epoch_2(ev):
        if ev.kind == "epoch" and ev.epoch == 2:
            raise KeyboardInterrupt

    cfg = small_config(epochs=5, val_fraction=0.25)
    res = train(cfg, quadrants(), progress=stop_at_epoch_2, out_dir=out)
    assert res.interrupted and res.metrics["epochs_run"] == 2
    assert (out / "checkpoint" / "state.safetensors").is_file()
    load_model(out)  # the best weights so far are a usable model
    done = train(cfg, quadrants(), out_dir=out, resume=out)
    assert not done.interrupted and done.metrics["epochs_run"] == 5
    assert not (out / "checkpoint").exists()
    full = train(cfg, quadrants())
    # resuming restores weights, optimizer, schedule and random state: same result as one run
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(done.model.state_dict()[k], v)


def test_resume_without_checkpoint_fails(tmp_path):
    train(small_config(epochs=1), quadrants(), out_dir=tmp_path / "m")
    with pytest.raises(ModelError, match="no resumable checkpoint"):
        train(small_config(epochs=2), quadrants(), out_dir=tmp_path / "m", resume=tmp_path / "m")


def test_stratified_split_is_seeded_and_keeps_every_class():
    strata = np.array([0] * 50 + [1] * 10 + [2] * 1)
    tr, va = split_validation(61, 0.2, 0, strata)
    _tr2, va2 = split_validation(61, 0.2, 0, strata)
    assert np.array_equal(va, va2) and len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 61
    assert (strata[va] == 0).sum() == 10 and (strata[va] == 1).sum() == 2 and (strata[va] == 2).sum() == 0


def test_random_negatives_are_uniform_on_the_sphere():
    g = torch.Generator().manual_seed(0)
    pts = random_sphere_lonlat(200_000, g)
    lon, lat = pts[:, 0], pts[:, 1]
    assert lon.min() < -179 and lon.max() > 179 and lat.min() < -85 and lat.max() > 85
    # uniform on the sphere: P(|lat| < 30°) = sin 30° = 0.5
    assert (lat.abs() < 30).float().mean().item() == pytest.approx(0.5, abs=0.01)
    assert (lon < 0).float().mean().item() == pytest.approx(0.5, abs=0.01)


def test_an_full_formula_by_hand():
    logits = torch.tensor([[0.0, 0.0]])
    rand = torch.tensor([[0.0, 0.0]])
    eps = 1e-5
    l_pos = 2 * -np.log(0.5 + eps)
    l_neg = -np.log(0.5 + eps)
    expected = (l_pos + l_neg) / 2 + l_neg
    assert an_full_loss(logits, torch.tensor([0]), rand).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "data, cfg, err, text",
    [
        (PointData(np.zeros((5, 2)), np.array(["a"] * 5, dtype=object)), {}, InputError, "at least two"),
        (PointData(np.zeros((3, 2)), np.array([1.0, np.nan, 2.0])), {}, InputError, "NaN"),
        (PointData(np.zeros((3, 2)), np.array(["a", None, "b"], dtype=object)), {}, InputError, "missing"),
        (None, {"loss": "hinge"}, UnknownNameError, "unknown loss"),
        (None, {"loss": "mse"}, ParameterError, "does not fit task"),
        (None, {"net": "resnet"}, UnknownNameError, "unknown net"),
        (None, {"net_params": {"width": 3}}, ParameterError, "no parameter 'width'"),
        (None, {"method": "nope"}, UnknownNameError, "unknown method"),
        (None, {"epochs": 0}, ParameterError, "epochs"),
        (None, {"lr": -1.0}, ParameterError, "lr"),
    ],
)
def test_bad_inputs_fail_with_one_line(tmp_path, data, cfg, err, text):
    data = data if data is not None else quadrants(40)
    with pytest.raises(err, match=text) as info:
        train(small_config(**cfg), data, out_dir=tmp_path / "m")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "m").exists()
    assert list(tmp_path.iterdir()) == []


def test_config_yaml_round_trip(tmp_path):
    cfg = small_config(label="region", lr_schedule="cosine")
    p = tmp_path / "c.yaml"
    p.write_text(cfg.to_yaml())
    assert TrainConfig.from_yaml(p) == cfg
    p.write_text("lr: 0.1\nepoch: 3\n")
    with pytest.raises(ParameterError, match="did you mean 'epochs'"):
        TrainConfig.from_yaml(p)


def test_the_default_model_is_the_measured_one():
    # The defaults were chosen from measurements (docs/models.md, "Defaults of geoenc train"): sh with L = 20, a
    # 2 × 512 SIREN, 60 epochs of batch 256, AdamW lr 1e-3 with a cosine schedule. TrainConfig() must give exactly
    # that (geoenc.defaults holds the numbers), and a default run must train and save that model.
    from geoenc import defaults

    cfg = TrainConfig(task="regression", device="cpu").validate()
    assert (cfg.method, cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay, cfg.lr_schedule) == (
        defaults.TRAIN_METHOD,
        defaults.TRAIN_EPOCHS,
        defaults.TRAIN_BATCH_SIZE,
        defaults.TRAIN_LR,
        defaults.TRAIN_WEIGHT_DECAY,
        defaults.TRAIN_LR_SCHEDULE,
    )
    assert (cfg.method, cfg.epochs, cfg.batch_size, cfg.lr, cfg.lr_schedule) == ("sh", 60, 256, 1e-3, "cosine")
    res = train(TrainConfig(device="cpu", epochs=2), smooth_values(300))  # only the epochs shortened
    enc, net = res.config["encoder"], res.config["net"]
    assert enc["name"] == "sh" and enc["params"]["degree"] == 20
    assert net["name"] == "siren" and net["params"]["hidden"] == 512 and net["params"]["layers"] == 2
    assert res.config["task"] == "regression" and len(res.history) == 2
    lrs = [h["lr"] for h in res.history]
    assert lrs[0] == pytest.approx(1e-3) and lrs[1] < lrs[0]  # cosine: decays from lr
