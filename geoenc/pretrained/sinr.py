"""SINR's location encoder (a ``model_*.pt``) → encoder ``wrap`` + net ``fcnet``.

elijahcole/sinr ``train.py`` saves ``{'state_dict': model.state_dict(), 'params': params}``. For the
``ResidualFCNet`` with ``input_enc='sin_cos'`` the state dict holds ``feats.0.weight|bias`` (Linear 4 →
num_filts), ``feats.{2+i}.w1|w2.weight|bias`` for the ``depth`` residual blocks (Linear → ReLU → Dropout →
Linear → ReLU, plus the input) and ``class_emb.weight`` (the per-species presence head, not imported: the
embedding is the net's output, what SINR calls ``loc_emb``).

SINR's input features are ``[sin(π lon/180), sin(π lat/90), cos(π lon/180), cos(π lat/90)]``; geoenc's
``wrap`` computes the same four numbers in the order (sin λ, cos λ, sin, cos of the latitude term), so the
first layer's columns are permuted on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from geoenc.errors import ModelError, UsageError
from geoenc.pretrained.foreign import StateReader, copy_into, load_checkpoint, plain_values, positive, wrong_model

WHAT = "SINR checkpoint"
KNOWN_SHA256: dict[str, str] = {}
CONVERT_HINT = (
    "python -c \"import torch; c = torch.load('IN', weights_only=False); torch.save({'state_dict': "
    "c['state_dict'], 'params': {k: v for k, v in c['params'].items() if isinstance(v, (bool, int, float, str))}}, "
    "'OUT')\" and pass OUT"
)
#: geoenc wrap column j ← SINR column _PERM[j]: (sin λ, cos λ, sin φ', cos φ') ← (sin λ, sin φ', cos λ, cos φ')
_PERM = torch.tensor([0, 2, 1, 3])


def locate(source: str | Path | None) -> Path:
    if source is None:
        raise UsageError(
            "sinr weights are not bundled: download pretrained_models.zip from CaltechDATA (record dk5g7-rhq64), "
            "unzip it and pass one model_*.pt with --from"
        )
    return Path(source)


def convert(path: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Read the SINR checkpoint at ``path`` → a geoenc LocationEncoder and details for provenance."""
    from geoenc.encoders import get_encoder
    from geoenc.models.location import LocationEncoder
    from geoenc.nets import get_net

    ckpt = load_checkpoint(path, WHAT, CONVERT_HINT)
    if not isinstance(ckpt, Mapping) or not isinstance(ckpt.get("params"), Mapping):
        raise wrong_model(path, WHAT, ckpt, "sinr", "it has no 'params' dict (SINR saves its settings there)")
    if not isinstance(ckpt.get("state_dict"), Mapping):
        raise wrong_model(path, WHAT, ckpt, "sinr", "it has no 'state_dict'")
    params = plain_values(ckpt["params"])
    if "input_enc" not in params or "model" not in params:
        raise wrong_model(path, WHAT, ckpt, "sinr", "its params lack input_enc and model")
    if params["model"] != "ResidualFCNet":
        raise ModelError(f"{WHAT} {path} is a {params['model']!r}; geoenc imports SINR's ResidualFCNet models only")
    if params["input_enc"] != "sin_cos":
        raise ModelError(
            f"{WHAT} {path} uses input_enc={params['input_enc']!r}, which needs SINR's environmental rasters at "
            "every point; geoenc imports the location-only sin_cos models"
        )
    width = positive(params.get("num_filts"), f"{WHAT} {path}: params['num_filts']")
    depth = positive(params.get("depth", 4), f"{WHAT} {path}: params['depth']")
    reader = StateReader(ckpt["state_dict"], path, WHAT)
    values: dict[str, torch.Tensor] = {
        "stem.0.weight": reader.take("feats.0.weight", (width, 4))[:, _PERM],
        "stem.0.bias": reader.take("feats.0.bias", (width,)),
    }
    for i in range(depth):
        for src, dst in (("w1", 0), ("w2", 3)):
            values[f"blocks.{i}.body.{dst}.weight"] = reader.take(f"feats.{i + 2}.{src}.weight", (width, width))
            values[f"blocks.{i}.body.{dst}.bias"] = reader.take(f"feats.{i + 2}.{src}.bias", (width,))
    n_classes = None
    if reader.has("class_emb.weight"):
        n_classes = int(reader.take("class_emb.weight").shape[0])
    left = reader.leftover()
    if left:
        raise ModelError(f"{WHAT} {path}: unexpected weights {left[0]} for depth={depth}: damaged or another model")
    position = get_encoder("wrap")
    net = get_net("fcnet", position.embedding_dim, hidden=width, blocks=depth, dropout=0.5)
    copy_into(net, values, path)
    details = {
        "model": "ResidualFCNet",
        "input_enc": "sin_cos",
        "num_filts": width,
        "depth": depth,
        "species_head_classes_not_imported": n_classes,
        "loss": params.get("loss") if isinstance(params.get("loss"), str) else None,
        "hard_cap_num_per_class": params.get("hard_cap_num_per_class")
        if isinstance(params.get("hard_cap_num_per_class"), int)
        else None,
    }
    return LocationEncoder(position, net), details
