"""Pre-training configuration: typed defaults in one dataclass, saved beside the pretrained model."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from geoenc.defaults import DEFAULT_METHOD
from geoenc.errors import ParameterError, UnknownNameError, did_you_mean
from geoenc.params import check_number
from geoenc.pretrain.objectives import (
    CLIP_INIT_TEMPERATURE,
    CSP_RANDOM_NEGATIVES,
    CSP_TEMPERATURES,
    CSP_WEIGHTS,
    OBJECTIVES,
    POOLED_NCE_TEMPERATURE,
)

#: temperature keys of the softmax objectives (``mc``, ``mc-bld``; CSP's NCE has none): ``b`` = τ0
#: in-batch, ``l`` = τ1 random locations, ``d`` = τ2 SimCSE, CSP's defaults (its training scripts) 20, 1,
#: 1; ``pooled`` the temperature of ``nce-pooled`` (0.1); ``clip`` the initial value of CLIP's learnable
#: temperature (0.07).
DEFAULT_TEMPERATURES = {**CSP_TEMPERATURES, "pooled": POOLED_NCE_TEMPERATURE, "clip": CLIP_INIT_TEMPERATURE}
#: term weights of ``mc-bld`` (α1, α2), ``nce-bld`` (β1, β2) and ``nce`` (β1): ``l`` random locations,
#: ``d`` SimCSE (the in-batch term has weight 1). CSP's defaults: 1, 1.
DEFAULT_WEIGHTS = dict(CSP_WEIGHTS)
RANDOM_EXTENTS = ("sphere", "data")


@dataclass
class PretrainConfig:
    """Everything that decides a pre-training run (the data file aside).

    ``features`` names the list column of the other modality (image embeddings, covariates …);
    ``method``/``method_params`` and ``net``/``net_params`` define the location encoder exactly as in
    :class:`geoenc.training.TrainConfig` (so a pretrained encoder can initialise a ``geoenc train`` model).
    ``random_negatives`` (CSP's C, ``num_neg_rand_loc``) random locations per point serve as negatives
    for the objectives with a random-location term, drawn uniformly on the whole sphere
    (``random_extent="sphere"``, as the CSP paper says) or, for a regional data set, on the part of the
    sphere inside the data's lon/lat bounding box (``"data"``).
    """

    features: str | None = None
    method: str = DEFAULT_METHOD
    method_params: dict[str, Any] = field(default_factory=dict)
    net: str | None = None
    net_params: dict[str, Any] = field(default_factory=dict)
    objective: str = "mc-bld"
    temperatures: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TEMPERATURES))
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    random_negatives: int = CSP_RANDOM_NEGATIVES
    random_extent: str = "sphere"
    projection_hidden: int = 256
    epochs: int = 30
    batch_size: int = 512
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    #: hold out this fraction of the points to watch the objective on unseen points (early stopping)
    val_fraction: float = 0.0
    #: stop after this many epochs without a lower held-out loss (None: never; needs val_fraction)
    patience: int | None = None

    def validate(self) -> PretrainConfig:
        from geoenc.device import parse_amp, parse_device
        from geoenc.encoders import get_encoder_class, resolve_params
        from geoenc.nets import get_net_class, resolve_net_params

        if self.objective not in OBJECTIVES:
            raise UnknownNameError(
                f"unknown objective {self.objective!r}{did_you_mean(str(self.objective), OBJECTIVES)}; "
                f"known objectives: {', '.join(OBJECTIVES)}"
            )
        self.temperatures = _merge("temperature", self.temperatures, DEFAULT_TEMPERATURES)
        self.weights = _merge("weight", self.weights, DEFAULT_WEIGHTS)
        for k, v in self.temperatures.items():
            if not (math.isfinite(v) and v > 0):
                raise ParameterError(f"temperature {k}={v!r} must be a finite number > 0")
        for k, v in self.weights.items():
            if not (math.isfinite(v) and v >= 0):
                raise ParameterError(f"weight {k}={v!r} must be a finite number >= 0")
        for name, lo, hi in (
            ("epochs", 1, 1_000_000),
            ("batch_size", 2, 1 << 24),
            ("projection_hidden", 1, 65_536),
            ("random_negatives", 1, 1 << 24),
            ("seed", 0, 2**63 - 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ParameterError(f"--{name.replace('_', '-')} must be an integer in [{lo}, {hi:,}], got {v!r}")
        check_number(self, "lr", lo=0.0, lo_open=True, hi=1e3)
        check_number(self, "weight_decay", lo=0.0, hi=1e3)
        check_number(self, "val_fraction", lo=0.0, hi=1.0, hi_open=True)
        if self.patience is not None and (
            isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 0
        ):
            raise ParameterError(f"patience={self.patience!r} must be an integer >= 0")
        self.method = get_encoder_class(self.method).name
        self.method_params = resolve_params(self.method, self.method_params)
        if self.net is not None:
            self.net = get_net_class(self.net).name
        resolve_net_params(self.net or get_encoder_class(self.method).default_net, self.net_params)
        self.amp = parse_amp(self.amp)
        if self.random_extent not in RANDOM_EXTENTS:
            raise ParameterError(
                f"random_extent={self.random_extent!r} is not valid: choose one of {', '.join(RANDOM_EXTENTS)}"
            )
        self.device = parse_device(self.device)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))


def _merge(what: str, given: dict[str, Any] | None, defaults: dict[str, float]) -> dict[str, float]:
    out = dict(defaults)
    for key, value in (given or {}).items():
        k = str(key).strip().lower()
        if k not in defaults:
            raise ParameterError(
                f"unknown {what} {key!r}{did_you_mean(str(key), list(defaults))}; known: {', '.join(defaults)}"
            )
        try:
            out[k] = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{what} {key}={value!r} is not a number") from None
    return out


def parse_scalars(items: list[str] | None, what: str, all_keys: tuple[str, ...]) -> dict[str, float]:
    """``["0.2"]`` → every key of ``all_keys`` 0.2; ``["b=0.1,l=0.5", "d=1"]`` → those keys (CLI helper)."""
    out: dict[str, float] = {}
    for item in items or []:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            if not sep:
                out.update({k: _number(what, "", key) for k in all_keys})
            elif not key.strip():
                raise ParameterError(f"--{what} takes VALUE or KEY=VALUE, got {part!r}")
            else:
                out[key.strip()] = _number(what, key.strip(), value.strip())
    return out


def _number(what: str, key: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ParameterError(f"--{what} {key + '=' if key else ''}{value!r} is not a number") from None
