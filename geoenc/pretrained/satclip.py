"""SatCLIP's location encoder (a Lightning ``.ckpt``) → encoder ``sh`` (convention satclip) + net ``siren``.

The checkpoint (microsoft/satclip ``main.py``: a LightningModule holding ``model = SatCLIP(...)``) has

* ``hyper_parameters``: the LightningModule's arguments — ``le_type`` ("sphericalharmonics"), ``pe_type``
  ("siren"), ``legendre_polys`` L, ``harmonics_calculation`` ("analytic"), ``embed_dim``, ``capacity``
  (SIREN width), ``num_hidden_layers``; plus the vision encoder's, which are not needed here;
* ``state_dict``: ``model.location.nnet.layers.{k}.weight|bias`` (k < num_hidden_layers, sine layers with
  w0 = 30 on the first, 1 after) and ``model.location.nnet.last_layer.weight|bias`` (linear), float64. The
  same tensors appear again as ``model.nnet.*``; the image encoder's are ignored.

SatCLIP's "analytic" harmonics are sympy-generated formulas without the Condon–Shortley phase, with
θ = lat + 90°, ϕ = lon + 180° and an extra factor π on every m = 0 term; geoenc's ``sh`` with
``convention=satclip`` computes exactly those functions (see docs/encoders.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from geoenc.errors import ModelError
from geoenc.pretrained.foreign import StateReader, copy_into, load_checkpoint, plain_values, positive, wrong_model

WHAT = "SatCLIP checkpoint"
#: the spherical-harmonics degrees of SatCLIP's released models (satclip-*-l10.ckpt, satclip-*-l40.ckpt)
KNOWN_L = (10, 40)
KNOWN_SHA256: dict[str, str] = {}
CONVERT_HINT = (
    "python -c \"import torch; c = torch.load('IN', weights_only=False); torch.save({'state_dict': "
    "c['state_dict'], 'hyper_parameters': dict(c['hyper_parameters'])}, 'OUT')\" and pass OUT"
)
#: SatCLIPLightningModule's defaults, for keys an older checkpoint may lack
_DEFAULTS = {"le_type": "grid", "pe_type": "siren", "harmonics_calculation": "analytic", "num_hidden_layers": 2}


def locate(source: str | Path | None) -> Path:
    if source is None:
        from geoenc.errors import UsageError

        raise UsageError(
            "satclip weights are not bundled: download satclip-<vision>-l10.ckpt or -l40.ckpt from Hugging Face "
            "(microsoft/SatCLIP-ResNet18-L10 …) and pass it with --from"
        )
    return Path(source)


def _int(hp: Mapping[str, Any], key: str, path: Path) -> int:
    value: int = positive(hp.get(key), f"{WHAT} {path}: hyper-parameter {key}")
    return value


def convert(path: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Read the SatCLIP checkpoint at ``path`` → a geoenc LocationEncoder and details for provenance."""
    from geoenc.encoders import get_encoder
    from geoenc.models.location import LocationEncoder
    from geoenc.nets import get_net

    ckpt = load_checkpoint(path, WHAT, CONVERT_HINT)
    if not isinstance(ckpt, Mapping) or not isinstance(ckpt.get("hyper_parameters"), Mapping):
        raise wrong_model(path, WHAT, ckpt, "satclip", "it has no 'hyper_parameters' (a Lightning checkpoint has)")
    if not isinstance(ckpt.get("state_dict"), Mapping):
        raise wrong_model(path, WHAT, ckpt, "satclip", "it has no 'state_dict'")
    hp = {**_DEFAULTS, **plain_values(ckpt["hyper_parameters"])}
    for key, want in (("le_type", "sphericalharmonics"), ("pe_type", "siren"), ("harmonics_calculation", "analytic")):
        if hp.get(key) != want:
            raise ModelError(
                f"{WHAT} {path} has {key}={hp.get(key)!r}; geoenc imports SatCLIP's released design only "
                f"({key}={want!r})"
            )
    if "legendre_polys" not in hp:
        raise wrong_model(path, WHAT, ckpt, "satclip", "its hyper_parameters lack legendre_polys (the degree L)")
    degree = _int(hp, "legendre_polys", path)
    if degree not in KNOWN_L:
        raise ModelError(
            f"{WHAT} {path} has legendre_polys L={degree}, not one of SatCLIP's released models "
            f"(L = {' or '.join(map(str, KNOWN_L))}): geoenc checked the harmonics convention for those only"
        )
    width = _int(hp, "capacity", path)
    out = _int(hp, "embed_dim", path)
    layers = _int(hp, "num_hidden_layers", path)

    state = ckpt["state_dict"]
    prefix = next((p for p in ("model.location.nnet.", "model.nnet.") if f"{p}last_layer.weight" in state), None)
    if prefix is None:
        raise wrong_model(path, WHAT, ckpt, "satclip", "its state_dict has no model.location.nnet.last_layer weights")
    reader = StateReader(state, path, WHAT)
    values: dict[str, torch.Tensor] = {}
    d_in = degree * degree
    for k in range(layers):
        values[f"layers.{k}.linear.weight"] = reader.take(f"{prefix}layers.{k}.weight", (width, d_in))
        values[f"layers.{k}.linear.bias"] = reader.take(f"{prefix}layers.{k}.bias", (width,))
        d_in = width
    values[f"layers.{layers}.linear.weight"] = reader.take(f"{prefix}last_layer.weight", (out, width))
    values[f"layers.{layers}.linear.bias"] = reader.take(f"{prefix}last_layer.bias", (out,))
    left = reader.leftover(prefix)
    if left:
        raise ModelError(f"{WHAT} {path}: unexpected weights {left[0]} for num_hidden_layers={layers}: damaged file")
    position = get_encoder("sh", degree=degree, convention="satclip")
    net = get_net("siren", position.embedding_dim, hidden=width, layers=layers, out=out, w0_initial=30.0, w0=1.0)
    copy_into(net, values, path)
    details = {
        "legendre_polys": degree,
        "capacity": width,
        "num_hidden_layers": layers,
        "embed_dim": out,
        "weights_dtype": str(values["layers.0.linear.weight"].dtype).replace("torch.", ""),
    }
    return LocationEncoder(position, net), details
