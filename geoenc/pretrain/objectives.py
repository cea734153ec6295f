"""Self-supervised objectives that pair a location embedding with another modality's embedding.

Every function here is a pure torch function of embeddings (no modules, no state): the caller runs the
location encoder and the feature projection and passes their outputs. Row ``i`` of ``loc`` and row ``i``
of ``feat`` come from the same point (a positive pair); every other pairing is a negative.

CSP's objectives (Mai et al. 2023) are implemented as the paper's equations define them and as CSP's
code (``gengchenmai/csp``, ``main/losses.py``) computes them; the definitions, with their sources, are in
``docs/pretrain.md``. Notation: ``s(a, b)`` is the cosine similarity (both inputs L2-normalised), ``N`` the
batch size, ``C`` the random locations per point.

- ``mse`` (CSP's "MSE" baseline, ``l2regress_loss``): mean squared error of ``head(e(x))`` against the
  features.
- ``mc`` (CSP-MC-B, Eq. 2 with ``P^X``, ``N^B``): :func:`mc_loss`.
- ``mc-bld`` (CSP-MC-BLD, Eq. 4, ``contsoftmax_loss``): :func:`mc_bld_loss`.
- ``nce`` (CSP's ``imgcontloss``: Eq. 3 without the SimCSE term) and ``nce-bld`` (CSP-NCE-BLD, Eq. 3,
  ``imgcontlosssimcse``): :func:`nce_loss`.
- ``clip`` (SatCLIP): :func:`clip_loss`.
- ``nce-pooled`` (not CSP: geoenc 0.1's ``nce``, kept because it measured better on some of the few-shot
  benchmarks, see ``docs/pretrain.md``): :func:`nce_pooled_loss`.

References
----------
- Mai, G., Lao, N., He, Y., Song, J., Ermon, S. (2023). "CSP: Self-Supervised Contrastive Spatial
  Pre-Training for Geospatial-Visual Representations." ICML 2023.
- Gao, T., Yao, X., Chen, D. (2021). "SimCSE: Simple Contrastive Learning of Sentence Embeddings." EMNLP.
- Klemmer, K., Rolf, E., Robinson, C., Mackey, L., Rußwurm, M. (2023). "SatCLIP: Global,
  General-Purpose Location Embeddings with Satellite Imagery." (``clip``; after Radford et al. 2021)
"""

from __future__ import annotations

import math
from typing import Literal, overload

import torch
import torch.nn.functional as F
from torch import Tensor

from geoenc.training.losses import random_sphere_lonlat

#: every objective ``geoenc pretrain --objective`` accepts, in the order the docs list them
OBJECTIVES = ("mc-bld", "mc", "nce-bld", "nce", "nce-pooled", "mse", "clip")
#: objectives that compare L2-normalised embeddings (all but ``mse``)
CONTRASTIVE = ("mc-bld", "mc", "nce-bld", "nce", "nce-pooled", "clip")
#: objectives that draw random locations on the sphere as negatives (CSP's L term; ``nce-pooled``'s pool)
USES_RANDOM_LOCATIONS = ("mc-bld", "nce-bld", "nce", "nce-pooled")
#: objectives with CSP's SimCSE term (a second, differently dropped-out pass over the batch's locations)
USES_DROPOUT_PASS = ("mc-bld", "nce-bld")
#: the softmax (MC) objectives, the only ones with temperatures b, l, d
SOFTMAX = ("mc-bld", "mc")
#: CSP's temperatures τ0 (in-batch), τ1 (random locations), τ2 (SimCSE): ``--unsuper_temp_inbatch 20``,
#: ``--unsuper_temp_negloc 1``, ``--unsuper_temp_simcse 1`` in both of CSP's training scripts
#: (``main/run-inat_2018-contsoftmax.sh``, ``main/run-fmow-contsoftmax.sh``)
CSP_TEMPERATURES = {"b": 20.0, "l": 1.0, "d": 1.0}
#: CSP's weights α1 = β1 (random locations, ``--rand_sample_weight 1``) and α2 = β2 (SimCSE,
#: ``--simcse_weight 1``), as in both scripts and the paper's Appendix A.4
CSP_WEIGHTS = {"l": 1.0, "d": 1.0}
#: C, random locations per point (``--num_neg_rand_loc 1`` in both scripts; Appendix A.4: C = 1)
CSP_RANDOM_NEGATIVES = 1
#: CSP's ``bce_loss`` adds 1e-5 inside the logarithm: −log(p + 1e-5)
NCE_EPS = 1e-5
#: ``nce-pooled``'s temperature (geoenc 0.1's default; CSP's NCE has none)
POOLED_NCE_TEMPERATURE = 0.1
#: the initial CLIP temperature (Radford et al. 2021; SatCLIP): logit scale = log(1 / 0.07)
CLIP_INIT_TEMPERATURE = 0.07

__all__ = [
    "CLIP_INIT_TEMPERATURE",
    "CONTRASTIVE",
    "CSP_RANDOM_NEGATIVES",
    "CSP_TEMPERATURES",
    "CSP_WEIGHTS",
    "NCE_EPS",
    "OBJECTIVES",
    "POOLED_NCE_TEMPERATURE",
    "SOFTMAX",
    "USES_DROPOUT_PASS",
    "USES_RANDOM_LOCATIONS",
    "clip_loss",
    "mc_bld_loss",
    "mc_dropout_loss",
    "mc_loss",
    "mc_random_location_loss",
    "mse_loss",
    "nce_in_batch_loss",
    "nce_loss",
    "nce_pooled_loss",
    "nce_random_location_loss",
    "normalize",
    "random_lonlat_in_extent",
    "random_sphere_lonlat",
]


def normalize(x: Tensor) -> Tensor:
    """Rows scaled to unit L2 norm (what every contrastive objective compares)."""
    return F.normalize(x, dim=-1)


def random_lonlat_in_extent(
    n: int, generator: torch.Generator, extent: tuple[float, float, float, float], device: torch.device | str = "cpu"
) -> Tensor:
    """``n`` points uniform (by area) on the part of the sphere inside ``extent`` = (lon_min, lon_max,
    lat_min, lat_max) degrees: lon ~ U(lon_min, lon_max), lat = asin(U(sin lat_min, sin lat_max)).

    With the whole globe as extent this is :func:`random_sphere_lonlat`'s distribution. A regional data
    set can draw its random-location negatives from its own bounding box instead of the whole sphere.
    """
    lon0, lon1, lat0, lat1 = (float(v) for v in extent)
    u = torch.rand(n, 2, generator=generator, dtype=torch.float64)
    lon = lon0 + u[:, 0] * (lon1 - lon0)
    s0, s1 = math.sin(math.radians(lat0)), math.sin(math.radians(lat1))
    lat = torch.rad2deg(torch.asin((s0 + u[:, 1] * (s1 - s0)).clamp(-1.0, 1.0)))
    return torch.stack((lon, lat), dim=1).to(device=device, dtype=torch.float32)


def _f(x: Tensor) -> Tensor:
    """float64 stays float64; anything else is computed in float32."""
    return x if x.dtype == torch.float64 else x.float()


def _targets(n: int, device: torch.device) -> Tensor:
    return torch.arange(n, device=device)


def _per_point(rand: Tensor, n: int) -> Tensor:
    """Random-location embeddings ``(C·N, d)`` (or ``(C, N, d)``) → ``(C, N, d)``: CSP's layout, where row
    ``k·N + i`` is the ``k``-th random location of point ``i`` (``loc_emb_rand_norm_`` in ``losses.py``)."""
    r = _f(rand)
    if r.dim() == 3:
        if r.shape[1] != n:
            raise ValueError(f"random-location embeddings {tuple(r.shape)} do not match a batch of {n}")
        return r
    if r.shape[0] % n:
        raise ValueError(f"{r.shape[0]} random-location embeddings are not a multiple of the batch size {n}")
    return r.reshape(r.shape[0] // n, n, r.shape[-1])


def mse_loss(predicted: Tensor, features: Tensor) -> Tensor:
    """CSP "MSE" (``l2regress_loss``): ``mean over N × F of (head(e(x)) − F(I))²``.

    ``predicted`` is ``head(loc_embedding)`` (a linear layer, the location embedding not normalised), with
    the features' width; no negatives.
    """
    return F.mse_loss(_f(predicted), _f(features))


def mc_loss(loc: Tensor, feat: Tensor, temperature: float = CSP_TEMPERATURES["b"]) -> Tensor:
    """CSP l^B_MC = l_MC(P^X, N^B, τ0) (Eq. 2 and 4; ``contsoftmax_loss`` step 1).

    For each location ``i`` a softmax over the batch's features: logits ``s(e(x_i), f(I_j)) / τ0`` for
    ``j = 1…N``, target ``j = i``; the mean over ``i`` of the cross-entropy. Inputs ``(N, d)``, L2-normalised.
    """
    logits = _f(loc) @ _f(feat).T / temperature
    return F.cross_entropy(logits, _targets(loc.shape[0], loc.device))


def mc_random_location_loss(
    loc: Tensor, feat: Tensor, rand: Tensor, temperature: float = CSP_TEMPERATURES["l"]
) -> Tensor:
    """CSP l^L_MC = l_MC(P^X, N^L, τ1) (Eq. 4; ``contsoftmax_loss`` step 2).

    For each point ``i`` a softmax over ``[e(x_i), e(x⁻_{i,1}), …, e(x⁻_{i,C})]`` against ``f(I_i)``:
    logits ``s(·, f(I_i)) / τ1``, target its own location; the mean over ``i``. ``rand``: ``(C·N, d)`` with
    row ``k·N + i`` the ``k``-th random location of point ``i`` (or ``(C, N, d)``). Inputs L2-normalised.
    """
    f, r = _f(feat), _per_point(rand, loc.shape[0])
    pos = (_f(loc) * f).sum(-1, keepdim=True)  # (N, 1)
    neg = (r * f.unsqueeze(0)).sum(-1).T  # (N, C)
    logits = torch.cat((pos, neg), dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(f.shape[0], dtype=torch.long, device=f.device))


def mc_dropout_loss(loc: Tensor, loc_dropout: Tensor, temperature: float = CSP_TEMPERATURES["d"]) -> Tensor:
    """CSP l^D_MC = l_MC(P^D, N^D, τ2) (Eq. 4, SimCSE; ``contsoftmax_loss`` step 3).

    ``loc_dropout`` is a second forward pass of the same locations with other dropout masks. For each
    ``i`` a softmax over ``s(e(x_i), e'(x_j)) / τ2``, ``j = 1…N``, target ``j = i``. Inputs L2-normalised.
    """
    logits = _f(loc) @ _f(loc_dropout).T / temperature
    return F.cross_entropy(logits, _targets(loc.shape[0], loc.device))


@overload
def mc_bld_loss(
    loc: Tensor,
    feat: Tensor,
    rand: Tensor | None,
    loc_dropout: Tensor | None,
    *,
    temperature_b: float = ...,
    temperature_l: float = ...,
    temperature_d: float = ...,
    weight_l: float = ...,
    weight_d: float = ...,
    return_parts: Literal[False] = ...,
) -> Tensor: ...


@overload
def mc_bld_loss(
    loc: Tensor,
    feat: Tensor,
    rand: Tensor | None,
    loc_dropout: Tensor | None,
    *,
    temperature_b: float = ...,
    temperature_l: float = ...,
    temperature_d: float = ...,
    weight_l: float = ...,
    weight_d: float = ...,
    return_parts: Literal[True],
) -> tuple[Tensor, dict[str, float]]: ...


def mc_bld_loss(
    loc: Tensor,
    feat: Tensor,
    rand: Tensor | None,
    loc_dropout: Tensor | None,
    *,
    temperature_b: float = CSP_TEMPERATURES["b"],
    temperature_l: float = CSP_TEMPERATURES["l"],
    temperature_d: float = CSP_TEMPERATURES["d"],
    weight_l: float = CSP_WEIGHTS["l"],
    weight_d: float = CSP_WEIGHTS["d"],
    return_parts: bool = False,
) -> Tensor | tuple[Tensor, dict[str, float]]:
    """CSP-MC-BLD, Eq. 4: ``l^B_MC + α1 · l^L_MC + α2 · l^D_MC`` (``contsoftmax_loss``).

    :func:`mc_loss` (τ0), :func:`mc_random_location_loss` (τ1, α1 = ``weight_l``) and
    :func:`mc_dropout_loss` (τ2, α2 = ``weight_d``). A term whose input is ``None`` (or whose weight is 0)
    is left out. Inputs L2-normalised. With ``return_parts`` the result is ``(total, {"b": …, "l": …,
    "d": …})`` (the unweighted terms, detached floats).
    """
    total = mc_loss(loc, feat, temperature_b)
    parts = {"b": float(total.detach())}
    if rand is not None and rand.shape[0] and weight_l:
        l_l = mc_random_location_loss(loc, feat, rand, temperature_l)
        total = total + weight_l * l_l
        parts["l"] = float(l_l.detach())
    if loc_dropout is not None and weight_d:
        l_d = mc_dropout_loss(loc, loc_dropout, temperature_d)
        total = total + weight_d * l_d
        parts["d"] = float(l_d.detach())
    return (total, parts) if return_parts else total


def _neg_log_sigmoid(s: Tensor, eps: float) -> Tensor:
    return -torch.log(torch.sigmoid(s) + eps)


def _neg_log_one_minus_sigmoid(s: Tensor, eps: float) -> Tensor:
    return -torch.log(1.0 - torch.sigmoid(s) + eps)


def nce_in_batch_loss(a: Tensor, b: Tensor, eps: float = NCE_EPS) -> Tensor:
    """l_NCE(P, N) of Eq. 1 for ``P = {(a_i, b_i)}`` and ``N = {(a_i, b_j), j ≠ i}``:
    ``mean_i −log(σ(s(a_i, b_i)) + ε) + mean_{i≠j} −log(1 − σ(s(a_i, b_j)) + ε)``.

    With ``(a, b) = (e(x), f(I))`` this is CSP's l^B_NCE, with ``(e(x), e'(x))`` its l^D_NCE
    (``imgcontloss_loss``). No temperature (CSP's NCE has none). ``ε`` is CSP's 1e-5 (``bce_loss``);
    ``eps=0`` gives Eq. 1 exactly. Needs ``N ≥ 2``. Inputs L2-normalised.
    """
    sims = _f(a) @ _f(b).T
    n = sims.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=sims.device)
    return _neg_log_sigmoid(sims[eye], eps).mean() + _neg_log_one_minus_sigmoid(sims[~eye], eps).mean()


def nce_random_location_loss(feat: Tensor, rand: Tensor, eps: float = NCE_EPS) -> Tensor:
    """CSP l^L_NCE = l_NCE(∅, N^L) (Eq. 3): ``mean over i, k of −log(1 − σ(s(e(x⁻_{i,k}), f(I_i))) + ε)``.

    ``rand``: ``(C·N, d)`` with row ``k·N + i`` the ``k``-th random location of point ``i`` (or ``(C, N, d)``).
    Inputs L2-normalised.
    """
    f = _f(feat)
    sims = (_per_point(rand, f.shape[0]) * f.unsqueeze(0)).sum(-1)  # (C, N)
    return _neg_log_one_minus_sigmoid(sims, eps).mean()


@overload
def nce_loss(
    loc: Tensor,
    feat: Tensor,
    rand: Tensor | None,
    loc_dropout: Tensor | None = ...,
    *,
    weight_l: float = ...,
    weight_d: float = ...,
    eps: float = ...,
    return_parts: Literal[False] = ...,
) -> Tensor: ...


@overload
def nce_loss(
    loc: Tensor,
    feat: Tensor,
    rand: Tensor | None,
    loc_dropout: Tensor | None = ...,
    *,
    weight_l: float = ...,
    weight_d: float = ...,
    eps: float = ...,
    return_parts: Literal[True],
) -> tuple[Tensor, dict[str, float]]: ...


def nce_loss(
    loc: Tensor,
    feat: Tensor,
    rand: Tensor | None,
    loc_dropout: Tensor | None = None,
    *,
    weight_l: float = CSP_WEIGHTS["l"],
    weight_d: float = CSP_WEIGHTS["d"],
    eps: float = NCE_EPS,
    return_parts: bool = False,
) -> Tensor | tuple[Tensor, dict[str, float]]:
    """CSP's binary (NCE) loss, Eq. 3: ``l^B_NCE + β1 · l^L_NCE + β2 · l^D_NCE``.

    Without ``loc_dropout`` this is CSP's ``imgcontloss`` (``nce``); with it ``imgcontlosssimcse``, the
    paper's CSP-NCE-BLD (``nce-bld``). :func:`nce_in_batch_loss` on ``(e(x), f(I))``,
    :func:`nce_random_location_loss` (β1 = ``weight_l``), :func:`nce_in_batch_loss` on ``(e(x), e'(x))``
    (β2 = ``weight_d``). A term whose input is ``None`` (or whose weight is 0) is left out. Inputs
    L2-normalised. ``return_parts`` as in :func:`mc_bld_loss`.
    """
    total = nce_in_batch_loss(loc, feat, eps)
    parts = {"b": float(total.detach())}
    if rand is not None and rand.shape[0] and weight_l:
        l_l = nce_random_location_loss(feat, rand, eps)
        total = total + weight_l * l_l
        parts["l"] = float(l_l.detach())
    if loc_dropout is not None and weight_d:
        l_d = nce_in_batch_loss(loc, loc_dropout, eps)
        total = total + weight_d * l_d
        parts["d"] = float(l_d.detach())
    return (total, parts) if return_parts else total


def nce_pooled_loss(
    loc: Tensor, feat: Tensor, rand: Tensor | None, temperature: float = POOLED_NCE_TEMPERATURE
) -> Tensor:
    """``nce-pooled``: geoenc 0.1's ``nce``, not CSP's. Sigmoid cross-entropy on ``s / τ``:
    ``mean_i −log σ(s(e(x_i), f(I_i)) / τ) + mean over the pool of −log(1 − σ(s / τ))``.

    The pool of negatives is every other pairing of the batch, ``(e(x_j), f(I_i))`` for ``j ≠ i``, together
    with every random location of the batch against every feature vector, ``(e(r_k), f(I_i))`` for all
    ``k`` (``rand``: ``(K, d)``, shared by the whole batch): one mean over all of them. It differs from
    CSP's ``imgcontloss`` (:func:`nce_loss`) in the temperature, in sharing the random locations across
    the batch, and in pooling the in-batch and random negatives into one mean (no weight β1, no ε).
    Inputs L2-normalised.
    """
    f = _f(feat)
    sims = f @ _f(loc).T / temperature
    n = sims.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=sims.device)
    pos, neg = sims[eye], sims[~eye]
    if rand is not None and rand.shape[0]:
        neg = torch.cat((neg, (f @ _f(rand).reshape(-1, f.shape[1]).T / temperature).reshape(-1)))
    pos_term = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
    if neg.numel() == 0:
        return pos_term
    return pos_term + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg))


def clip_loss(loc: Tensor, feat: Tensor, logit_scale: Tensor) -> Tensor:
    """Symmetric CLIP loss (SatCLIP): mean of the location→feature and feature→location cross-entropies.

    ``logit_scale`` is the learnable log inverse temperature, initialised to ``log(1 / 0.07)``; as in CLIP
    the scale ``exp(logit_scale)`` is clamped at 100. Inputs L2-normalised.
    """
    scale = logit_scale.float().exp().clamp(max=100.0)
    logits = scale * loc.float() @ feat.float().T
    t = _targets(loc.shape[0], loc.device)
    return 0.5 * (F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t))


def clip_init_logit_scale(temperature: float = CLIP_INIT_TEMPERATURE) -> float:
    """``log(1 / τ)``: the initial value of CLIP's learnable logit scale."""
    return math.log(1.0 / temperature)
