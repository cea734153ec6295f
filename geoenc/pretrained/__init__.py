"""Pretrained location encoders from other projects (GeoCLIP, SatCLIP, CSP, SINR) as geoenc model directories.

- :func:`list_pretrained` / :func:`get_pretrained`: what is known — where the weights come from, the input
  convention, embedding size, licence, citation, and what each importer was checked against.
- :func:`import_pretrained`: read the released weights safely (``torch.load(weights_only=True)``) and write a
  head-less model directory (safetensors + JSON) for ``geoenc encode --model``, ``train --init`` and ``map``.
"""

from geoenc.pretrained.importer import ImportResult, import_pretrained, pretrained_source
from geoenc.pretrained.registry import PretrainedInfo, get_pretrained, list_pretrained, pretrained_names

__all__ = [
    "ImportResult",
    "PretrainedInfo",
    "get_pretrained",
    "import_pretrained",
    "list_pretrained",
    "pretrained_names",
    "pretrained_source",
]
