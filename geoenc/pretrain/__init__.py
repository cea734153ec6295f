"""Contrastive spatial pre-training (CSP, Mai et al. ICML 2023) and few-shot fine-tuning.

- :func:`pretrain` + :class:`PretrainConfig`: self-supervised pre-training of a location encoder against
  another modality's per-point features (``geoenc pretrain``); objectives in :mod:`geoenc.pretrain.objectives`.
- :func:`apply_pretrained`: initialise (and optionally freeze) a ``geoenc train`` model's location encoder.
- :func:`stratified_fraction`: the 5 / 10 / 20 / 100 % label subsets of the few-shot protocol.
"""

from geoenc.pretrain.config import PretrainConfig
from geoenc.pretrain.finetune import apply_pretrained, encoder_settings, freeze, stratified_fraction
from geoenc.pretrain.loop import PretrainEvent, PretrainResult, pretrain
from geoenc.pretrain.objectives import OBJECTIVES

__all__ = [
    "OBJECTIVES",
    "PretrainConfig",
    "PretrainEvent",
    "PretrainResult",
    "apply_pretrained",
    "encoder_settings",
    "freeze",
    "pretrain",
    "stratified_fraction",
]
