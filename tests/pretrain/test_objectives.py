"""CSP's objectives against values derived by hand from the paper's equations and CSP's code, and against
numbers from CSP's own loss code on the same inputs; CLIP; the loop's use of them; random locations.

The hand derivations below are plain numpy loops over the equations (Mai et al., ICML 2023, Eq. 1–4) and
CSP's definitions (``gengchenmai/csp`` ``main/losses.py``); they never call the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from geoenc.models.location import build_location_encoder
from geoenc.pretrain import OBJECTIVES, pretrain
from geoenc.pretrain import objectives as O
from geoenc.pretrain.config import DEFAULT_TEMPERATURES, DEFAULT_WEIGHTS, PretrainConfig
from geoenc.pretrain.loop import batch_loss
from geoenc.pretrain.model import DualEncoder
from tests.pretrain.helpers import small_config, toy_data

# A tiny batch: N = 4 points, d = 3. Raw (not yet normalised) location embeddings e(x_i), projected
# features f(I_i), a second dropout pass e'(x_i), and C·N = 8 random-location embeddings (CSP's layout:
# row k·N + i is the k-th random location of point i).
LOC = [[1.0, 0.2, -0.3], [0.1, 0.9, 0.4], [-0.5, 0.3, 0.8], [0.6, -0.7, 0.2]]
FEAT = [[0.8, 0.1, 0.1], [0.2, 1.0, -0.2], [-0.3, 0.1, 0.9], [0.3, -0.4, -0.5]]
LOC2 = [[0.9, 0.3, -0.2], [0.0, 1.0, 0.5], [-0.6, 0.2, 0.7], [0.5, -0.8, 0.1]]
RAND = [
    [0.3, 0.3, 0.9],
    [-0.9, 0.1, 0.2],
    [0.2, -0.9, 0.3],
    [-0.1, -0.2, -1.0],
    [0.7, 0.7, 0.0],
    [0.0, -0.5, 0.8],
    [-0.4, 0.9, -0.1],
    [0.5, 0.5, -0.7],
]
# the MSE objective: head(e(x)) and the features it regresses
PRED = [[0.5, -1.0], [0.2, 0.3], [1.5, 0.0], [-0.4, 0.8]]
TARGET = [[0.3, -0.5], [0.0, 0.6], [1.0, 0.4], [-1.0, 1.0]]
N = 4
TOL = 1e-6


def _location(cfg, lonlat):
    return build_location_encoder(cfg.method, cfg.method_params, cfg.net, cfg.net_params, fit_on=lonlat, seed=cfg.seed)


def t64(x) -> torch.Tensor:
    """Raw numbers → L2-normalised float64 tensor (what the loop passes to the objectives)."""
    return O.normalize(torch.tensor(x, dtype=torch.float64))


# ---------------------------------------------------------------- hand derivations (numpy, loops)


def cos(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def softmax_ce(logits: list[float], target: int) -> float:
    """−log( exp(z_target) / Σ_k exp(z_k) )."""
    return -logits[target] + math.log(sum(math.exp(z) for z in logits))


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def hand_mc_in_batch(a, b, tau) -> float:
    """Eq. 2 with P = {(a_i, b_i)}, N_a = {(a_i, b_j), j ≠ i}: per a_i a softmax over all b_j (l^B, l^D)."""
    return float(np.mean([softmax_ce([cos(a[i], b[j]) / tau for j in range(N)], i) for i in range(N)]))


def hand_mc_random(loc, feat, rand, c, tau) -> float:
    """Eq. 4's l^L_MC: per image f(I_i) a softmax over [e(x_i), e(x⁻_{i,1}), …, e(x⁻_{i,C})], target 0."""
    terms = []
    for i in range(N):
        logits = [cos(loc[i], feat[i]) / tau] + [cos(rand[k * N + i], feat[i]) / tau for k in range(c)]
        terms.append(softmax_ce(logits, 0))
    return float(np.mean(terms))


def hand_nce_in_batch(a, b, eps) -> float:
    """Eq. 1 with P = {(a_i, b_i)} and N = {(a_i, b_j), j ≠ i}; CSP's −log(p + ε)."""
    pos = [-math.log(sigmoid(cos(a[i], b[i])) + eps) for i in range(N)]
    neg = [-math.log(1 - sigmoid(cos(a[i], b[j])) + eps) for i in range(N) for j in range(N) if j != i]
    return float(np.mean(pos) + np.mean(neg))


def hand_nce_random(feat, rand, c, eps) -> float:
    """Eq. 3's l^L_NCE = l_NCE(∅, N^L): the mean over i, k of −log(1 − σ(s(e(x⁻_{i,k}), f(I_i))) + ε)."""
    return float(
        np.mean([-math.log(1 - sigmoid(cos(rand[k * N + i], feat[i])) + eps) for k in range(c) for i in range(N)])
    )


def hand_mse(pred, target) -> float:
    return float(
        np.mean([(p - t) ** 2 for pr, tr in zip(pred, target, strict=True) for p, t in zip(pr, tr, strict=True)])
    )


# ---------------------------------------------------------------- MC (Eq. 2, 4; contsoftmax)


@pytest.mark.parametrize("tau", [20.0, 0.5])
def test_mc_in_batch_term_by_hand(tau):
    got = O.mc_loss(t64(LOC), t64(FEAT), tau).item()
    assert got == pytest.approx(hand_mc_in_batch(LOC, FEAT, tau), abs=TOL)


def test_mc_in_batch_softmax_runs_over_features_per_location():
    """CSP's direction: for each location a softmax over the batch's images (rows of e(x)·f(I)ᵀ)."""
    other_way = float(np.mean([softmax_ce([cos(LOC[j], FEAT[i]) / 0.5 for j in range(N)], i) for i in range(N)]))
    got = O.mc_loss(t64(LOC), t64(FEAT), 0.5).item()
    assert abs(got - other_way) > 1e-3  # the two directions differ on this batch
    assert got == pytest.approx(hand_mc_in_batch(LOC, FEAT, 0.5), abs=TOL)


@pytest.mark.parametrize("c", [1, 2])
@pytest.mark.parametrize("tau", [1.0, 0.7])
def test_mc_random_location_term_by_hand(c, tau):
    got = O.mc_random_location_loss(t64(LOC), t64(FEAT), t64(RAND[: c * N]), tau).item()
    assert got == pytest.approx(hand_mc_random(LOC, FEAT, RAND, c, tau), abs=TOL)
    # the same embeddings laid out as (C, N, d)
    as_3d = t64(RAND[: c * N]).reshape(c, N, 3)
    assert O.mc_random_location_loss(t64(LOC), t64(FEAT), as_3d, tau).item() == pytest.approx(got, abs=1e-12)


def test_mc_random_locations_are_per_point_not_shared():
    """Each point sees only its own C random locations, not every random location of the batch."""
    shared = []
    for i in range(N):
        logits = [cos(LOC[i], FEAT[i])] + [cos(r, FEAT[i]) for r in RAND[:N]]
        shared.append(softmax_ce(logits, 0))
    got = O.mc_random_location_loss(t64(LOC), t64(FEAT), t64(RAND[:N]), 1.0).item()
    assert abs(got - float(np.mean(shared))) > 1e-2
    assert got == pytest.approx(hand_mc_random(LOC, FEAT, RAND, 1, 1.0), abs=TOL)


@pytest.mark.parametrize("tau", [1.0, 0.3])
def test_mc_simcse_term_by_hand(tau):
    got = O.mc_dropout_loss(t64(LOC), t64(LOC2), tau).item()
    assert got == pytest.approx(hand_mc_in_batch(LOC, LOC2, tau), abs=TOL)


def test_mc_bld_by_hand_with_csp_defaults():
    """Eq. 4 with CSP's defaults: τ0 = 20, τ1 = τ2 = 1, α1 = α2 = 1, C = 1."""
    total, parts = O.mc_bld_loss(t64(LOC), t64(FEAT), t64(RAND[:N]), t64(LOC2), return_parts=True)
    b = hand_mc_in_batch(LOC, FEAT, 20.0)
    l_ = hand_mc_random(LOC, FEAT, RAND, 1, 1.0)
    d = hand_mc_in_batch(LOC, LOC2, 1.0)
    assert parts == pytest.approx({"b": b, "l": l_, "d": d}, abs=TOL)
    assert total.item() == pytest.approx(b + l_ + d, abs=TOL)


def test_mc_bld_weights_and_temperatures_by_hand():
    total = O.mc_bld_loss(
        t64(LOC),
        t64(FEAT),
        t64(RAND),
        t64(LOC2),
        temperature_b=0.5,
        temperature_l=0.7,
        temperature_d=0.3,
        weight_l=0.5,
        weight_d=2.0,
    )
    expected = (
        hand_mc_in_batch(LOC, FEAT, 0.5)
        + 0.5 * hand_mc_random(LOC, FEAT, RAND, 2, 0.7)
        + 2.0 * hand_mc_in_batch(LOC, LOC2, 0.3)
    )
    assert total.item() == pytest.approx(expected, abs=TOL)
    # without random locations and dropout pass it is the in-batch term (CSP-MC-B, `mc`)
    assert O.mc_bld_loss(t64(LOC), t64(FEAT), None, None, temperature_b=0.5).item() == pytest.approx(
        hand_mc_in_batch(LOC, FEAT, 0.5), abs=TOL
    )


def test_two_orthogonal_points_by_formula():
    """e = f = [[1, 0], [0, 1]], τ: each row is the cross-entropy of [1/τ, 0] with target 0."""
    eye = torch.eye(2, dtype=torch.float64)
    tau = 0.5
    assert O.mc_loss(eye, eye, tau).item() == pytest.approx(math.log(1 + math.exp(-1 / tau)), abs=1e-12)
    # NCE, ε = 0: −log σ(1) for the positives, −log(1 − σ(0)) = log 2 for the negatives
    assert O.nce_in_batch_loss(eye, eye, eps=0.0).item() == pytest.approx(
        math.log(1 + math.exp(-1)) + math.log(2), abs=1e-12
    )


def test_every_csp_objective_in_closed_form_on_two_points():
    """N = 2, C = 1, CSP's defaults, worked out on paper. e = f = e' = [[1, 0], [0, 1]]; point 0's random
    location embeds to [0, 1] and point 1's to [1, 0], so every positive cosine is 1 and every negative 0.

    MC: each term's softmax has logits [1/τ, 0] with target 0 → log(1 + e^(−1/τ)); τ0 = 20, τ1 = τ2 = 1.
    NCE (ε = 1e-5): every positive −log(σ(1) + ε), every negative −log(1 − σ(0) + ε) = −log(0.5 + ε).
    """
    eye = torch.eye(2, dtype=torch.float64)
    rand = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    eps = 1e-5
    sig1 = 1.0 / (1.0 + math.exp(-1.0))
    mc_b = math.log(1 + math.exp(-1 / 20))  # 0.6687…
    mc_l = mc_d = math.log(1 + math.exp(-1.0))  # 0.3133…
    assert O.mc_loss(eye, eye).item() == pytest.approx(mc_b, abs=TOL)
    assert O.mc_bld_loss(eye, eye, rand, eye).item() == pytest.approx(mc_b + mc_l + mc_d, abs=TOL)
    nce_b = -math.log(sig1 + eps) - math.log(0.5 + eps)  # 1.0064…
    nce_l = -math.log(0.5 + eps)  # 0.6931…
    assert O.nce_loss(eye, eye, rand).item() == pytest.approx(nce_b + nce_l, abs=TOL)
    assert O.nce_loss(eye, eye, rand, eye).item() == pytest.approx(2 * nce_b + nce_l, abs=TOL)
    # MSE: head output [[1, 0], [0, 1]] against features [[0, 0], [0, 3]]: (1 + 0 + 0 + 4) / 4
    target = torch.tensor([[0.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
    assert O.mse_loss(eye, target).item() == pytest.approx(1.25, abs=TOL)


# ---------------------------------------------------------------- NCE (Eq. 1, 3; imgcontloss)


@pytest.mark.parametrize("eps", [O.NCE_EPS, 0.0])
def test_nce_terms_by_hand(eps):
    assert O.nce_in_batch_loss(t64(LOC), t64(FEAT), eps).item() == pytest.approx(
        hand_nce_in_batch(LOC, FEAT, eps), abs=TOL
    )
    for c in (1, 2):
        got = O.nce_random_location_loss(t64(FEAT), t64(RAND[: c * N]), eps).item()
        assert got == pytest.approx(hand_nce_random(FEAT, RAND, c, eps), abs=TOL)
    assert O.nce_in_batch_loss(t64(LOC), t64(LOC2), eps).item() == pytest.approx(
        hand_nce_in_batch(LOC, LOC2, eps), abs=TOL
    )


def test_csp_epsilon_matters_at_this_tolerance():
    """CSP's −log(p + 1e-5) differs from Eq. 1's −log p by more than the tolerance: the default keeps CSP's."""
    with_eps = O.nce_in_batch_loss(t64(LOC), t64(FEAT)).item()
    assert abs(with_eps - hand_nce_in_batch(LOC, FEAT, 0.0)) > 10 * TOL
    assert with_eps == pytest.approx(hand_nce_in_batch(LOC, FEAT, 1e-5), abs=TOL)


def test_nce_is_imgcontloss_and_nce_bld_is_eq3():
    """`nce` = l^B + β1 l^L (CSP's imgcontloss); `nce-bld` = Eq. 3 with the SimCSE term (imgcontlosssimcse)."""
    eps = O.NCE_EPS
    b = hand_nce_in_batch(LOC, FEAT, eps)
    l_ = hand_nce_random(FEAT, RAND, 1, eps)
    d = hand_nce_in_batch(LOC, LOC2, eps)
    total, parts = O.nce_loss(t64(LOC), t64(FEAT), t64(RAND[:N]), None, return_parts=True)
    assert parts == pytest.approx({"b": b, "l": l_}, abs=TOL) and total.item() == pytest.approx(b + l_, abs=TOL)
    total = O.nce_loss(t64(LOC), t64(FEAT), t64(RAND[:N]), t64(LOC2))
    assert total.item() == pytest.approx(b + l_ + d, abs=TOL)
    weighted = O.nce_loss(t64(LOC), t64(FEAT), t64(RAND), t64(LOC2), weight_l=0.5, weight_d=2.0)
    expected = b + 0.5 * hand_nce_random(FEAT, RAND, 2, eps) + 2.0 * d
    assert weighted.item() == pytest.approx(expected, abs=TOL)


# ---------------------------------------------------------------- nce-pooled (geoenc 0.1's nce, not CSP)


def hand_nce_pooled(loc, feat, rand, tau) -> float:
    """mean_i −log σ(s_ii/τ) + one mean of −log(1 − σ(s/τ)) over the pool: (e(x_j), f(I_i)), j ≠ i, and
    (e(r_k), f(I_i)) for every random location r_k of the batch."""
    pos = [-math.log(sigmoid(cos(feat[i], loc[i]) / tau)) for i in range(N)]
    pool = [cos(feat[i], loc[j]) / tau for i in range(N) for j in range(N) if j != i]
    pool += [cos(feat[i], r) / tau for i in range(N) for r in rand]
    return float(np.mean(pos) + np.mean([-math.log(1 - sigmoid(v)) for v in pool]))


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_nce_pooled_by_hand(tau):
    got = O.nce_pooled_loss(t64(LOC), t64(FEAT), t64(RAND), tau).item()
    assert got == pytest.approx(hand_nce_pooled(LOC, FEAT, RAND, tau), abs=TOL)
    # every random location is a negative for every point: 4 × 8 random pairs in the pool
    assert O.nce_pooled_loss(t64(LOC), t64(FEAT), None, tau).item() == pytest.approx(
        hand_nce_pooled(LOC, FEAT, [], tau), abs=TOL
    )


def test_nce_pooled_is_geoenc_0_1_nce():
    """2.080139398574829: geoenc 0.1's (commit a9a2d2f) nce_loss on these float32 inputs, τ = 0.1."""
    f32 = lambda x: O.normalize(torch.tensor(x, dtype=torch.float32))  # noqa: E731
    got = O.nce_pooled_loss(f32(LOC), f32(FEAT), f32(RAND[:N]))  # default τ = 0.1
    assert got.item() == pytest.approx(2.080139398574829, abs=TOL)


# ---------------------------------------------------------------- MSE, CLIP


def test_mse_by_hand():
    got = O.mse_loss(torch.tensor(PRED, dtype=torch.float64), torch.tensor(TARGET, dtype=torch.float64)).item()
    assert got == pytest.approx(hand_mse(PRED, TARGET), abs=1e-12)
    assert got == pytest.approx(0.15375, abs=1e-12)  # (0.04+0.25+0.04+0.09+0.25+0.16+0.36+0.04)/8


def test_clip_is_symmetric_and_starts_at_temperature_007():
    g = torch.Generator().manual_seed(1)
    a, b = O.normalize(torch.randn(5, 3, generator=g)), O.normalize(torch.randn(5, 3, generator=g))
    scale = torch.tensor(math.log(1 / 0.07))
    assert O.clip_loss(a, b, scale).item() == pytest.approx(O.clip_loss(b, a, scale).item(), rel=1e-6)
    dual = DualEncoder(_location(small_config(), toy_data(8).lonlat), 5, "clip")
    assert dual.logit_scale.requires_grad and dual.logit_scale.item() == pytest.approx(math.log(1 / 0.07))


# ---------------------------------------------------------------- CSP's own code on the same inputs

# Produced by running CSP's unmodified `main/losses.py` (gengchenmai/csp, commit 67f3407) outside this
# repository, in float64, with a stub model that returns LOC (first pass), LOC2 (second pass), RAND (the
# random samples) and FEAT (`img_dec`), and `rand_samples` replaced by a placeholder; each term isolated by
# setting the other weights to 0 (contsoftmax_loss, imgcontloss_loss with `imgcontlossnolocneg`,
# `imgcontloss`, `imgcontlosssimcse`), l2regress_loss with `loc_dec` returning PRED and targets TARGET.
CSP_CODE = {
    # contsoftmax, C = 1, τ = (20, 1, 1): terms B, L, D
    "mc_c1_csp_defaults": (1.3530122369010082, 0.49700024712188484, 0.7472390499566068),
    # contsoftmax, C = 2, τ = (0.5, 0.7, 0.3); total with α1 = 0.5, α2 = 2
    "mc_c2": (0.5864535549960239, 0.7052422968975587, 0.19003948205705368, 1.3191536675589106),
    # imgcontloss family, C = 1: terms B, L, D
    "nce_c1": (1.0526830117237884, 0.8690783993797788, 0.9820153573324282),
    # imgcontlosssimcse, C = 2, β1 = 0.5, β2 = 2
    "nce_bld_c2_total": 3.437690536069415,
    "l2regress": 0.15375,
}


def test_matches_csp_code_on_the_same_inputs():
    loc, feat, loc2 = t64(LOC), t64(FEAT), t64(LOC2)
    r1, r2 = t64(RAND[:N]), t64(RAND)
    b, l_, d = CSP_CODE["mc_c1_csp_defaults"]
    assert O.mc_loss(loc, feat).item() == pytest.approx(b, abs=1e-9)  # defaults: τ0 = 20
    assert O.mc_random_location_loss(loc, feat, r1).item() == pytest.approx(l_, abs=1e-9)
    assert O.mc_dropout_loss(loc, loc2).item() == pytest.approx(d, abs=1e-9)
    b, l_, d, total = CSP_CODE["mc_c2"]
    assert O.mc_loss(loc, feat, 0.5).item() == pytest.approx(b, abs=1e-9)
    assert O.mc_random_location_loss(loc, feat, r2, 0.7).item() == pytest.approx(l_, abs=1e-9)
    assert O.mc_dropout_loss(loc, loc2, 0.3).item() == pytest.approx(d, abs=1e-9)
    got = O.mc_bld_loss(
        loc, feat, r2, loc2, temperature_b=0.5, temperature_l=0.7, temperature_d=0.3, weight_l=0.5, weight_d=2.0
    )
    assert got.item() == pytest.approx(total, abs=1e-9)
    b, l_, d = CSP_CODE["nce_c1"]
    assert O.nce_in_batch_loss(loc, feat).item() == pytest.approx(b, abs=1e-9)
    assert O.nce_random_location_loss(feat, r1).item() == pytest.approx(l_, abs=1e-9)
    assert O.nce_in_batch_loss(loc, loc2).item() == pytest.approx(d, abs=1e-9)
    got = O.nce_loss(loc, feat, r2, loc2, weight_l=0.5, weight_d=2.0).item()
    assert got == pytest.approx(CSP_CODE["nce_bld_c2_total"], abs=1e-9)
    pred, target = torch.tensor(PRED, dtype=torch.float64), torch.tensor(TARGET, dtype=torch.float64)
    assert O.mse_loss(pred, target).item() == pytest.approx(CSP_CODE["l2regress"], abs=1e-12)


def test_float32_inputs_give_the_same_values():
    f32 = lambda x: O.normalize(torch.tensor(x, dtype=torch.float32))  # noqa: E731
    got = O.mc_bld_loss(f32(LOC), f32(FEAT), f32(RAND[:N]), f32(LOC2))
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(sum(CSP_CODE["mc_c1_csp_defaults"]), abs=1e-5)
    got = O.nce_loss(f32(LOC), f32(FEAT), f32(RAND[:N]), f32(LOC2))
    assert got.item() == pytest.approx(sum(CSP_CODE["nce_c1"]), abs=1e-5)


# ---------------------------------------------------------------- defaults, the loop's use


def test_registered_objectives_and_csp_defaults():
    assert OBJECTIVES == ("mc-bld", "mc", "nce-bld", "nce", "nce-pooled", "mse", "clip")
    assert DEFAULT_TEMPERATURES == {"b": 20.0, "l": 1.0, "d": 1.0, "pooled": 0.1, "clip": 0.07}
    assert DEFAULT_WEIGHTS == {"l": 1.0, "d": 1.0}
    assert PretrainConfig().random_negatives == 1


class _Recorder:
    def __init__(self):
        self.random_sizes: list[int] = []
        self.second_passes = 0


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("c", [1, 3])
def test_batch_loss_draws_c_random_locations_per_point(objective, c):
    cfg = small_config(objective=objective, random_negatives=c).validate()
    data = toy_data(16)
    model = DualEncoder(_location(cfg, data.lonlat), 5, objective)
    rec = _Recorder()
    lonlat = torch.as_tensor(data.lonlat, dtype=torch.float32)
    feats = torch.as_tensor(data.features, dtype=torch.float32)

    def second_pass():
        rec.second_passes += 1
        return model.location(lonlat)

    def draw(k):
        rec.random_sizes.append(k)
        return O.random_sphere_lonlat(k, torch.Generator().manual_seed(0))

    loss, parts = batch_loss(model, cfg, model.location(lonlat), feats, second_pass, draw)
    assert torch.isfinite(loss)
    assert rec.random_sizes == ([c * 16] if objective in O.USES_RANDOM_LOCATIONS else [])
    assert rec.second_passes == (1 if objective in O.USES_DROPOUT_PASS else 0)
    expected_parts = {"mc-bld": {"b", "l", "d"}, "nce-bld": {"b", "l", "d"}, "nce": {"b", "l"}}
    assert set(parts) == expected_parts.get(objective, set())


def test_batch_loss_equals_the_objective_on_the_same_embeddings():
    """The loop hands the objectives L2-normalised embeddings with the configured temperatures and weights."""
    cfg = small_config(objective="mc-bld", temperatures={"b": 0.5, "l": 0.7, "d": 0.3}, weights={"l": 0.5, "d": 2})
    cfg.validate()
    data = toy_data(8)
    model = DualEncoder(_location(cfg, data.lonlat), 5, "mc-bld").eval()  # no dropout: repeatable
    lonlat = torch.as_tensor(data.lonlat, dtype=torch.float32)
    feats = torch.as_tensor(data.features, dtype=torch.float32)
    rand_ll = O.random_sphere_lonlat(8, torch.Generator().manual_seed(5))
    loc = model.location(lonlat)
    loss, _ = batch_loss(model, cfg, loc, feats, lambda: model.location(lonlat), lambda k: rand_ll[:k])
    n = O.normalize
    expected = O.mc_bld_loss(
        n(loc),
        n(model.projection(feats)),
        n(model.location(rand_ll)),
        n(loc),
        temperature_b=0.5,
        temperature_l=0.7,
        temperature_d=0.3,
        weight_l=0.5,
        weight_d=2.0,
    )
    assert loss.item() == pytest.approx(expected.item(), abs=1e-6)


# ---------------------------------------------------------------- training lowers every objective

#: terms that must fall on the toy set within 8 epochs. With CSP's τ0 = 20 the in-batch softmax term can
#: only move within ±2/τ0 = ±0.1 of log N, and SimCSE's positives start almost equal (the two passes
#: differ only by dropout), so the checks name the terms that have room to fall.
FALLS = {
    "mc-bld": ("loss_l", 0.7),
    "nce-bld": ("loss_b", 0.9),
    "nce": ("loss_l", 0.85),
    "nce-pooled": ("loss", 0.8),
    "mc": ("loss", 0.995),
    "mse": ("loss", 0.5),
    "clip": ("loss", 0.5),
}


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_loss_decreases_on_a_toy_set_with_csp_defaults(objective):
    """Features are a known function of location, so every objective can be lowered."""
    res = pretrain(small_config(objective=objective, epochs=8), toy_data(256))
    assert all(math.isfinite(v) for row in res.history for k, v in row.items() if k.startswith("train_loss"))
    key, factor = FALLS[objective]
    first, last = res.history[0][f"train_{key}"], res.history[-1][f"train_{key}"]
    assert last < factor * first, (key, first, last)
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


@pytest.mark.parametrize("objective", ["mc", "mc-bld"])
def test_softmax_objectives_fall_far_with_sharp_temperatures(objective):
    res = pretrain(
        small_config(objective=objective, epochs=8, temperatures={"b": 0.1, "l": 0.1, "d": 0.1}), toy_data(256)
    )
    assert res.history[-1]["train_loss"] < 0.6 * res.history[0]["train_loss"]


# ---------------------------------------------------------------- random locations


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
    assert res.config["pretrain"]["random_negatives_per_point"] == 1
    assert (
        pretrain(small_config(objective="nce", epochs=1), toy_data(64)).config["pretrain"]["random_extent"] == "sphere"
    )
