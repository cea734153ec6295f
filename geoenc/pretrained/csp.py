"""CSP's grid location encoder (a ``.pth.tar``) → encoder ``grid`` + net ``ffn`` (output activation on).

gengchenmai/csp ``trainer.py`` saves ``{'epoch', 'state_dict', 'optimizer', 'params'}``; ``params`` is the
dict of training arguments (``spa_enc_type``, ``frequency_num``, ``min_radius``, ``max_radius``,
``freq_init``, ``num_hidden_layer``, ``hidden_dim``, ``num_filts``, ``spa_f_act``, ``dropout``, ``use_layn``,
``skip_connection`` …). The model is a LocationImageEncoder around a LocationEncoder, so the location
net's weights are ``loc_enc.spa_enc.ffn.layers.{i}.linear.weight|bias`` (and ``.layernorm.*`` on hidden
layers), repeated under ``spa_enc.ffn.*``; a bare LocationEncoder has only ``spa_enc.ffn.*``.

CSP's grid features are, per coordinate (lon, then lat, degrees) and per scale s, ``[sin(f_s x), cos(f_s x)]``
(f_s = 1/r_s, r_s geometric from min_radius to max_radius); geoenc's ``grid`` orders the same numbers as
all sines (lon scales, lat scales) then all cosines, so the first layer's columns are permuted on import.
Its feed-forward net is TorchSpatial's: Linear → activation → dropout → (skip) → LayerNorm per hidden layer,
and activation + dropout on the output layer too (geoenc ``ffn`` with ``output_activation=true``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from geoenc.errors import ModelError, UsageError
from geoenc.pretrained.foreign import StateReader, copy_into, load_checkpoint, plain_values, positive, wrong_model

WHAT = "CSP checkpoint"
KNOWN_SHA256: dict[str, str] = {}
CONVERT_HINT = (
    "python -c \"import torch; c = torch.load('IN', weights_only=False); torch.save({'state_dict': "
    "c['state_dict'], 'params': {k: (v.item() if hasattr(v, 'item') else v) for k, v in c['params'].items() "
    "if isinstance(v, (bool, int, float, str)) or hasattr(v, 'item')}}, 'OUT')\" and pass OUT"
)
ACTIVATIONS = ("leakyrelu", "relu", "sigmoid", "tanh", "gelu")


def locate(source: str | Path | None) -> Path:
    if source is None:
        raise UsageError(
            "csp weights are not bundled: download a model_*_gridcell_*.pth.tar from the CSP project page "
            "(gengchenmai.github.io/csp-website) and pass it with --from"
        )
    return Path(source)


def _flag(value: Any) -> bool | None:
    """CSP keeps T/F flags as strings until its trainer converts them; accept both forms."""
    if isinstance(value, bool):
        return value
    if value in ("T", "True", "true", 1):
        return True
    if value in ("F", "False", "false", 0):
        return False
    return None


def _number(params: Mapping[str, Any], key: str, path: Path, *, integer: bool = False) -> Any:
    return positive(params.get(key), f"{WHAT} {path}: params[{key!r}]", integer=integer)


def convert(path: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Read the CSP checkpoint at ``path`` → a geoenc LocationEncoder and details for provenance."""
    from geoenc.encoders import get_encoder
    from geoenc.models.location import LocationEncoder
    from geoenc.nets import get_net

    ckpt = load_checkpoint(path, WHAT, CONVERT_HINT)
    if not isinstance(ckpt, Mapping) or not isinstance(ckpt.get("params"), Mapping):
        raise wrong_model(path, WHAT, ckpt, "csp", "it has no 'params' dict (CSP saves its training arguments there)")
    if not isinstance(ckpt.get("state_dict"), Mapping):
        raise wrong_model(path, WHAT, ckpt, "csp", "it has no 'state_dict'")
    params = plain_values(ckpt["params"])
    if "spa_enc_type" not in params:
        raise wrong_model(path, WHAT, ckpt, "csp", "its params lack spa_enc_type")
    kind = params["spa_enc_type"]
    if kind != "gridcell":
        raise ModelError(
            f"{WHAT} {path} uses spa_enc_type={kind!r}; geoenc imports CSP's released gridcell "
            "(Space2Vec-grid) encoders only"
        )
    if params.get("freq_init", "geometric") != "geometric":
        raise ModelError(
            f"{WHAT} {path} has freq_init={params.get('freq_init')!r}; geoenc's grid uses geometric scales"
        )
    n_freq = _number(params, "frequency_num", path, integer=True)
    if n_freq < 2:
        raise ModelError(f"{WHAT} {path} has frequency_num={n_freq}; CSP's geometric scales need at least 2")
    r_min = _number(params, "min_radius", path)
    r_max = _number(params, "max_radius", path)
    hidden_layers = params.get("num_hidden_layer")
    if isinstance(hidden_layers, bool) or not isinstance(hidden_layers, int) or hidden_layers < 0:
        raise ModelError(f"{WHAT} {path}: params['num_hidden_layer']={hidden_layers!r} is not an integer >= 0")
    hidden = _number(params, "hidden_dim", path, integer=True) if hidden_layers else 1
    out = _number(params, "num_filts", path, integer=True)
    act = params.get("spa_f_act")
    if act not in ACTIVATIONS:
        raise ModelError(f"{WHAT} {path} has spa_f_act={act!r}; CSP's activations are {', '.join(ACTIVATIONS)}")
    dropout = params.get("dropout")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ModelError(f"{WHAT} {path}: params['dropout']={dropout!r} is not in [0, 1)")
    layer_norm, skip = _flag(params.get("use_layn", True)), _flag(params.get("skip_connection", True))
    if layer_norm is None or skip is None:
        raise ModelError(f"{WHAT} {path}: params use_layn/skip_connection are not T/F flags")
    if not skip and (hidden_layers >= 2 or (hidden_layers == 1 and 4 * n_freq == hidden)):
        raise ModelError(
            f"{WHAT} {path} has skip_connection off between layers of equal width; geoenc's ffn always adds "
            "the skip there, so this net cannot be reproduced exactly"
        )

    state = ckpt["state_dict"]
    prefix = next((p for p in ("loc_enc.spa_enc.ffn.", "spa_enc.ffn.") if f"{p}layers.0.linear.weight" in state), None)
    if prefix is None:
        raise wrong_model(path, WHAT, ckpt, "csp", "its state_dict has no spa_enc.ffn.layers.0 weights")
    reader = StateReader(state, path, WHAT)
    values: dict[str, torch.Tensor] = {}
    d_in = 4 * n_freq
    # geoenc column of (sin/cos k, coordinate d, scale s) ← CSP column d·2S + 2s + k
    perm = torch.tensor([d * 2 * n_freq + 2 * s + k for k in range(2) for d in range(2) for s in range(n_freq)])
    for i in range(hidden_layers + 1):
        last = i == hidden_layers
        width = out if last else hidden
        src = f"{prefix}layers.{i}"
        dst = "output" if last else f"hidden.{i}"
        w = reader.take(f"{src}.linear.weight", (width, d_in))
        values[f"{dst}.linear.weight"] = w[:, perm] if i == 0 else w
        values[f"{dst}.linear.bias"] = reader.take(f"{src}.linear.bias", (width,))
        if not last and layer_norm:
            values[f"{dst}.norm.weight"] = reader.take(f"{src}.layernorm.weight", (width,))
            values[f"{dst}.norm.bias"] = reader.take(f"{src}.layernorm.bias", (width,))
        d_in = width
    left = reader.leftover(prefix)
    if left:
        raise ModelError(f"{WHAT} {path}: unexpected weights {left[0]} for num_hidden_layer={hidden_layers}")
    position = get_encoder("grid", frequency_num=n_freq, min_radius=r_min, max_radius=r_max)
    net = get_net(
        "ffn",
        position.embedding_dim,
        hidden=hidden,
        layers=hidden_layers,
        out=out,
        activation=act,
        dropout=float(dropout),
        layer_norm=bool(layer_norm),
        output_activation=True,
    )
    copy_into(net, values, path)
    details = {
        "spa_enc_type": kind,
        "frequency_num": n_freq,
        "min_radius": r_min,
        "max_radius": r_max,
        "num_hidden_layer": hidden_layers,
        "hidden_dim": hidden,
        "num_filts": out,
        "spa_f_act": act,
        "dropout": float(dropout),
        "use_layn": bool(layer_norm),
        "skip_connection": bool(skip),
        "dataset": params.get("dataset") if isinstance(params.get("dataset"), str) else None,
        "unsuper_loss": params.get("unsuper_loss") if isinstance(params.get("unsuper_loss"), str) else None,
    }
    return LocationEncoder(position, net), details
