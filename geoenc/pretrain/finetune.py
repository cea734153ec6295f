"""Fine-tuning from a pretrained location encoder, and the few-shot label protocol of CSP.

- :func:`apply_pretrained` copies a pretrained (or any trained) model directory's location encoder
  into a freshly built :class:`geoenc.models.LocationModel`, exactly, and optionally freezes it.
- :func:`stratified_fraction` picks the seeded, class-stratified 5 % / 10 % / 20 % / 100 % label subsets
  of Mai et al. (ICML 2023).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from geoenc.errors import ModelError, ParameterError
from geoenc.models.checkpoint import CONFIG, WEIGHTS, _adopt_tensor, read_config, sha256_file
from geoenc.models.location import LocationModel

PREFIX = "location."


def _canonical(value: Any) -> Any:
    """JSON round trip, so tuples and lists (and ints/floats in saved configs) compare alike."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def check_compatible(model: LocationModel, cfg: dict[str, Any], where: str | os.PathLike) -> None:
    """Raise a one-line :class:`ModelError` unless the pretrained encoder and net match ``model``'s."""
    position, net = model.location.position, model.location.net
    theirs_enc = (str(cfg["encoder"].get("name", "")).lower(), _canonical(cfg["encoder"].get("params", {})))
    ours_enc = (str(position.name).lower(), _canonical(position.params))
    if theirs_enc != ours_enc:
        raise ModelError(
            f"--init {where} was pretrained with encoder {cfg['encoder'].get('name')} "
            f"{_short(cfg['encoder'].get('params'))}"
            f" but this model uses {position.name} {_short(position.params)}: use the same --method and -p values"
        )
    theirs_net = (str(cfg["net"].get("name", "")).lower(), _canonical(cfg["net"].get("params", {})))
    ours_net = (str(net.name).lower(), _canonical(net.params))
    if theirs_net != ours_net:
        raise ModelError(
            f"--init {where} was pretrained with net {cfg['net'].get('name')} {_short(cfg['net'].get('params'))}"
            f" but this model uses {net.name} {_short(net.params)}: use the same --net and -n values"
        )


def _short(params: Any) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def apply_pretrained(model: LocationModel, pretrained_dir: str | os.PathLike, freeze_encoder: bool = False) -> None:
    """Load the location encoder (position encoder + net) of ``pretrained_dir`` into ``model``, in place.

    ``pretrained_dir`` is a directory from ``geoenc pretrain`` (or ``geoenc train``: any model directory
    works). Its encoder and net names and parameters must equal ``model``'s, else :class:`ModelError`
    (one line, saying which differs). The weights' checksum is verified; the copy is exact (fitted state
    such as rbf anchors included). The head and any feature MLP of ``model`` are left as they are. With
    ``freeze_encoder`` the location encoder's parameters get ``requires_grad=False`` (build the optimiser
    from ``p for p in model.parameters() if p.requires_grad`` afterwards).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    d = Path(pretrained_dir)
    cfg = read_config(d)
    check_compatible(model, cfg, d)
    path = d / WEIGHTS
    if not path.is_file():
        raise ModelError(f"--init {d} has no {WEIGHTS}: the folder is incomplete, pretrain again")
    if sha256_file(path) != cfg["weights_sha256"]:
        raise ModelError(f"--init {d}: {WEIGHTS} does not match the checksum in {CONFIG}: pretrain again or restore it")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelError(f"--init {d}: {WEIGHTS} is not a readable safetensors file ({e})") from None
    state = {k: v for k, v in tensors.items() if k.startswith(PREFIX)}
    if not state:
        raise ModelError(f"--init {d} holds no location-encoder weights: pass a folder from geoenc pretrain or train")
    own = model.state_dict()
    device = next((t.device for t in own.values()), None)
    for key, value in state.items():
        if key.startswith(PREFIX + "position.") and (key not in own or own[key].shape != value.shape):
            # fitted state (e.g. rbf anchors) sized by the data it was fitted on, on the model's device
            _adopt_tensor(model, key, value.to(device) if device is not None else value)
    sub = {k[len(PREFIX) :]: v for k, v in state.items()}
    try:
        model.location.load_state_dict(sub, strict=True)
    except RuntimeError as e:
        lines = str(e).strip().splitlines()
        detail = " ".join(x.strip() for x in lines[1:3]) if len(lines) > 1 else lines[0]
        raise ModelError(f"--init {d}: its weights do not fit this model's location encoder ({detail[:240]})") from None
    if freeze_encoder:
        freeze(model.location)


def encoder_settings(pretrained_dir: str | os.PathLike) -> dict[str, Any]:
    """``method``/``method_params``/``net``/``net_params`` of a model directory, as TrainConfig fields.

    Lets ``geoenc train --init DIR`` default its encoder and net to the pretrained ones, so a user need
    not repeat ``-m``/``-p``/``--net``/``-n``.
    """
    cfg = read_config(pretrained_dir)
    return {
        "method": cfg["encoder"]["name"],
        "method_params": dict(cfg["encoder"].get("params", {})),
        "net": cfg["net"]["name"],
        "net_params": dict(cfg["net"].get("params", {})),
    }


def freeze(module: nn.Module) -> None:
    """``requires_grad=False`` on every parameter of ``module`` (a linear probe on a frozen encoder)."""
    for p in module.parameters():
        p.requires_grad_(False)


def stratified_fraction(labels: Any, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded, class-stratified ``fraction`` of ``labels`` (CSP's few-shot protocol).

    Each class keeps ``round(fraction · n_c)`` points, at least one; ``fraction=1`` returns every index.
    ``labels`` is any 1-D sequence of hashable class labels (strings, integers). The same seed always picks
    the same points, and a smaller fraction's subset is not required to be nested in a larger one's.
    """
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        raise ParameterError(f"train fraction {fraction!r} is not a number") from None
    if not (0 < f <= 1):
        raise ParameterError(f"train fraction {fraction!r} must be in (0, 1]")
    y = np.asarray(labels, dtype=object)
    if y.ndim != 1:
        raise ParameterError(f"labels must be one per point (1-D), got shape {y.shape}")
    n = y.shape[0]
    if f == 1:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keys = np.asarray([str(v) for v in y])
    picked = []
    for c in np.unique(keys):
        idx = np.nonzero(keys == c)[0]
        k = max(1, round(f * idx.size))
        picked.append(idx[rng.permutation(idx.size)[:k]])
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)
