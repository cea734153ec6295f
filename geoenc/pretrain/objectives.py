"""Self-supervised objectives that pair a location embedding with another modality's embedding.

Every function here is a pure torch function of embeddings (no modules, no state): the caller runs the
location encoder and the feature projection and passes their outputs. Row ``i`` of ``loc`` and row ``i``
of ``feat`` come from the same point (a positive pair); every other pairing is a negative.

References
----------
- Mai, G., Lao, N., He, Y., Song, J., Ermon, S. (2023). "CSP: Self-Supervised Contrastive Spatial
  Pre-Training for Geospatial-Visual Representations." ICML 2023. (``mse``, ``nce``, ``mc``, ``mc-bld``)
- Klemmer, K., Rolf, E., Robinson, C., Mackey, L., Rußwurm, M. (2023). "SatCLIP: Global,
  General-Purpose Location Embeddings with Satellite Imagery." (``clip``; after Radford et al. 2021)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from geoenc.training.losses import random_sphere_lonlat

#: every objective ``geoenc pretrain --objective`` accepts, in the order the docs list them
OBJECTIVES = ("mc-bld", "mc", "nce", "mse", "clip")
#: objectives that compare L2-normalised embeddings (all but ``mse``)
CONTRASTIVE = ("mc-bld", "mc", "nce", "clip")
#: objectives that draw random locations on the sphere as extra negatives
USES_RANDOM_LOCATIONS = ("mc-bld", "nce")
#: the initial CLIP temperature (Radford et al. 2021; SatCLIP): logit scale = log(1 / 0.07)
CLIP_INIT_TEMPERATURE = 0.07

__all__ = [
    "CLIP_INIT_TEMPERATURE",
    "CONTRASTIVE",
    "OBJECTIVES",
    "USES_RANDOM_LOCATIONS",
    "clip_loss",
    "mc_bld_loss",
    "mc_loss",
    "mse_loss",
    "nce_loss",
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


def _targets(n: int, device: torch.device) -> Tensor:
    return torch.arange(n, device=device)


def mse_loss(predicted: Tensor, features: Tensor) -> Tensor:
    """CSP "MSE": regress the (standardised) features from the location embedding through a head.

    ``predicted`` is ``head(loc_embedding)`` with the features' width; no normalisation, no negatives.
    """
    return F.mse_loss(predicted.float(), features.float())


def mc_loss(loc: Tensor, feat: Tensor, temperature: float = 0.1) -> Tensor:
    """CSP "MC" (in-batch negatives only): softmax cross-entropy over the batch's locations.

    For point ``i`` the logits are ``⟨f_i, l_j⟩ / τ`` for every location ``j`` in the batch; the target
    is ``j = i``. Both inputs must already be L2-normalised.
    """
    logits = feat.float() @ loc.float().T / temperature
    return F.cross_entropy(logits, _targets(loc.shape[0], loc.device))


def nce_loss(loc: Tensor, feat: Tensor, rand: Tensor | None = None, temperature: float = 0.1) -> Tensor:
    """CSP "NCE": binary (sigmoid) discrimination of the positive pair from negatives.

    Positives: ``σ(⟨f_i, l_i⟩ / τ) → 1``. Negatives: the other locations of the batch ``⟨f_i, l_j⟩``,
    ``j ≠ i``, and, when ``rand`` is given, random sphere locations ``⟨f_i, r_k⟩`` → 0. The loss is the mean
    positive term plus the mean negative term (so the weight does not grow with the batch size).
    Inputs L2-normalised.
    """
    f = feat.float()
    sims = f @ loc.float().T / temperature
    n = sims.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=sims.device)
    pos = sims[eye]
    neg = sims[~eye]
    if rand is not None and rand.shape[0]:
        neg = torch.cat((neg, (f @ rand.float().T / temperature).reshape(-1)))
    pos_term = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
    if neg.numel() == 0:
        return pos_term
    return pos_term + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg))


def mc_bld_loss(
    loc: Tensor,
    feat: Tensor,
    rand: Tensor | None,
    loc_dropout: Tensor | None,
    *,
    temperature_b: float = 0.1,
    temperature_l: float = 0.1,
    temperature_d: float = 0.1,
    weight_l: float = 1.0,
    weight_d: float = 1.0,
    return_parts: bool = False,
):
    """CSP "MC-BLD" = L_B + w_L · L_L + w_D · L_D, each a softmax cross-entropy with its own temperature.

    - ``L_B`` (in-batch negatives): :func:`mc_loss` with ``τ_B``.
    - ``L_L`` (random-location negatives): for point ``i`` the candidates are its own location and the
      random sphere locations ``r_k`` (``rand``); logits ``⟨f_i, ·⟩ / τ_L``, target: its own location.
    - ``L_D`` (SimCSE, Gao et al. 2021): ``loc_dropout`` is a second forward pass of the same locations
      with a different dropout mask; ``l_i`` and ``l'_i`` are positives, ``l'_j`` (j ≠ i) negatives, ``τ_D``.

    A term whose input is ``None`` (or whose weight is 0) is left out. Inputs L2-normalised. With
    ``return_parts`` the result is ``(total, {"b": …, "l": …, "d": …})`` (detached floats).
    """
    total = mc_loss(loc, feat, temperature_b)
    parts = {"b": float(total.detach())}
    if rand is not None and rand.shape[0] and weight_l:
        f = feat.float()
        pos = (f * loc.float()).sum(-1, keepdim=True)
        logits = torch.cat((pos, f @ rand.float().T), dim=1) / temperature_l
        l_l = F.cross_entropy(logits, torch.zeros(f.shape[0], dtype=torch.long, device=f.device))
        total = total + weight_l * l_l
        parts["l"] = float(l_l.detach())
    if loc_dropout is not None and weight_d:
        logits = loc.float() @ loc_dropout.float().T / temperature_d
        l_d = F.cross_entropy(logits, _targets(loc.shape[0], loc.device))
        total = total + weight_d * l_d
        parts["d"] = float(l_d.detach())
    return (total, parts) if return_parts else total


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
