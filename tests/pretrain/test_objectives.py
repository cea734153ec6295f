"""The CSP / CLIP objectives: hand-checkable values, and every objective's loss falls on a toy set."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from geoenc.models.location import build_location_encoder
from geoenc.pretrain import OBJECTIVES, pretrain
from geoenc.pretrain import objectives as O
from geoenc.pretrain.model import DualEncoder
from tests.pretrain.helpers import small_config, toy_data


def test_registered_objectives():
    assert OBJECTIVES == ("mc-bld", "mc", "nce", "mse", "clip")


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_loss_decreases_on_a_toy_set(objective):
    """Features are a known function of location, so every objective can be lowered."""
    res = pretrain(small_config(objective=objective, epochs=8), toy_data(256))
    losses = [row["train_loss"] for row in res.history]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.8 * losses[0], losses


def test_mc_loss_by_hand():
    loc = O.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    feat = loc.clone()
    # logits = I / τ: each row is CE of [1/τ, 0] with target 0
    tau = 0.5
    expected = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 1))
    assert O.mc_loss(loc, feat, tau).item() == pytest.approx(expected, rel=1e-6)


def test_nce_by_hand_without_random_locations():
    loc = O.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    tau = 1.0
    pos = F.softplus(torch.tensor(-1.0))  # −log σ(1)
    neg = F.softplus(torch.tensor(0.0))  # −log(1 − σ(0))
    assert O.nce_loss(loc, loc, None, tau).item() == pytest.approx((pos + neg).item(), rel=1e-6)


def test_mc_bld_is_the_weighted_sum_of_its_terms():
    g = torch.Generator().manual_seed(0)
    loc, feat, rand, drop = (O.normalize(torch.randn(6, 4, generator=g)) for _ in range(4))
    total, parts = O.mc_bld_loss(
        loc,
        feat,
        rand,
        drop,
        temperature_b=0.2,
        temperature_l=0.3,
        temperature_d=0.4,
        weight_l=0.5,
        weight_d=2.0,
        return_parts=True,
    )
    assert set(parts) == {"b", "l", "d"}
    assert parts["b"] == pytest.approx(O.mc_loss(loc, feat, 0.2).item(), rel=1e-6)
    assert total.item() == pytest.approx(parts["b"] + 0.5 * parts["l"] + 2.0 * parts["d"], rel=1e-5)
    # without random locations and dropout positives it is plain MC
    assert O.mc_bld_loss(loc, feat, None, None, temperature_b=0.2).item() == pytest.approx(parts["b"], rel=1e-6)


def test_clip_is_symmetric_and_starts_at_temperature_007():
    g = torch.Generator().manual_seed(1)
    a, b = O.normalize(torch.randn(5, 3, generator=g)), O.normalize(torch.randn(5, 3, generator=g))
    scale = torch.tensor(math.log(1 / 0.07))
    assert O.clip_loss(a, b, scale).item() == pytest.approx(O.clip_loss(b, a, scale).item(), rel=1e-6)
    cfg = small_config()
    location = build_location_encoder(cfg.method, cfg.method_params, cfg.net, cfg.net_params, fit_on=toy_data(8).lonlat)
    dual = DualEncoder(location, 5, "clip")
    assert dual.logit_scale.requires_grad and dual.logit_scale.item() == pytest.approx(math.log(1 / 0.07))


def test_random_sphere_locations_are_uniform_and_seeded():
    a = O.random_sphere_lonlat(20000, torch.Generator().manual_seed(3))
    b = O.random_sphere_lonlat(20000, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert a[:, 0].abs().max() <= 180 and a[:, 1].abs().max() <= 90
    # uniform on the sphere ⇔ sin(lat) uniform on [−1, 1]: mean 0, variance 1/3
    s = torch.sin(torch.deg2rad(a[:, 1].double()))
    assert abs(s.mean().item()) < 0.02 and s.var().item() == pytest.approx(1 / 3, abs=0.01)


def test_random_locations_inside_an_extent_are_uniform_by_area():
    ext = (-124.0, -114.0, 32.0, 42.0)
    a = O.random_lonlat_in_extent(20000, torch.Generator().manual_seed(3), ext)
    assert a.dtype == torch.float32 and a.shape == (20000, 2)
    assert a[:, 0].min() >= -124 and a[:, 0].max() <= -114 and a[:, 1].min() >= 32 and a[:, 1].max() <= 42
    s = torch.sin(torch.deg2rad(a[:, 1].double()))
    s0, s1 = math.sin(math.radians(32)), math.sin(math.radians(42))
    assert s.mean().item() == pytest.approx((s0 + s1) / 2, abs=0.002)
    world = O.random_lonlat_in_extent(5, torch.Generator().manual_seed(0), (-180, 180, -90, 90))
    assert world.abs().max() <= 180


def test_data_extent_negatives_are_recorded(tmp_path):
    res = pretrain(small_config(objective="nce", epochs=1, random_extent="data"), toy_data(64))
    ext = res.config["pretrain"]["random_extent"]
    assert isinstance(ext, list) and len(ext) == 4 and ext[0] < ext[1] and ext[2] < ext[3]
    assert (
        pretrain(small_config(objective="nce", epochs=1), toy_data(64)).config["pretrain"]["random_extent"] == "sphere"
    )
