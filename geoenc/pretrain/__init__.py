"""Contrastive spatial pre-training (CSP, Mai et al. ICML 2023) of a location encoder, without labels.

:func:`pretrain` + :class:`PretrainConfig` (``geoenc pretrain``); objectives in
:mod:`geoenc.pretrain.objectives`. Fine-tuning a pretrained encoder is :mod:`geoenc.models.transfer`
(``geoenc train --init DIR``); the few-shot label subsets are :func:`geoenc.models.data.stratified_fraction`.
"""

from geoenc.pretrain.config import PretrainConfig
from geoenc.pretrain.loop import PretrainResult, pretrain
from geoenc.pretrain.objectives import OBJECTIVES

__all__ = ["OBJECTIVES", "PretrainConfig", "PretrainResult", "pretrain"]
