"""Transfer: start a location model from the location encoder of another model folder.

:func:`apply_pretrained` copies a pretrained (``geoenc pretrain``, an imported pretrained model) or any
trained model folder's location encoder into a freshly built :class:`geoenc.models.LocationModel`,
exactly, and optionally freezes it (a linear probe). :func:`encoder_settings` reads which encoder and net
a folder holds, so ``geoenc train --init DIR`` need not repeat them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from torch import nn

from geoenc.errors import ModelError
from geoenc.models.checkpoint import WEIGHTS, assign_weights, read_spec, read_weights
from geoenc.models.location import LocationModel
from geoenc.models.spec import ModelSpec

PREFIX = "location."


def _canonical(value: Any) -> Any:
    """JSON round trip, so tuples and lists (and ints/floats in saved configs) compare alike."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def check_compatible(model: LocationModel, spec: ModelSpec, where: str | os.PathLike[str]) -> None:
    """Raise a one-line :class:`ModelError` unless the pretrained encoder and net match ``model``'s."""
    position, net = model.location.position, model.location.net
    # a parameter left unset here (None: "decide when fitting", e.g. rbf's seed) matches the pretrained value
    mine = {k: v for k, v in position.params.items() if v is not None}
    theirs = {k: v for k, v in spec.encoder.params.items() if k in mine or k not in position.params}
    theirs_enc = (spec.encoder.name.lower(), _canonical(theirs))
    ours_enc = (str(position.name).lower(), _canonical(mine))
    if theirs_enc != ours_enc:
        raise ModelError(
            f"--init {where} was pretrained with encoder {spec.encoder.name} {_short(spec.encoder.params)}"
            f" but this model uses {position.name} {_short(position.params)}: use the same --method and -p values"
        )
    theirs_net = (spec.net.name.lower(), _canonical(spec.net.params))
    ours_net = (str(net.name).lower(), _canonical(net.params))
    if theirs_net != ours_net:
        raise ModelError(
            f"--init {where} was pretrained with net {spec.net.name} {_short(spec.net.params)}"
            f" but this model uses {net.name} {_short(net.params)}: use the same --net and -n values"
        )


def _short(params: Any) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def apply_pretrained(
    model: LocationModel, pretrained_dir: str | os.PathLike[str], freeze_encoder: bool = False
) -> None:
    """Load the location encoder (position encoder + net) of ``pretrained_dir`` into ``model``, in place.

    ``pretrained_dir`` is a directory from ``geoenc pretrain`` (or ``geoenc train``: any model directory
    works). Its encoder and net names and parameters must equal ``model``'s, else :class:`ModelError`
    (one line, saying which differs). The weights' checksum is verified; the copy is exact (fitted state
    such as rbf anchors included). The head and any feature MLP of ``model`` are left as they are. With
    ``freeze_encoder`` the location encoder's parameters get ``requires_grad=False`` (build the optimiser
    from ``p for p in model.parameters() if p.requires_grad`` afterwards).
    """
    d = Path(pretrained_dir)
    spec = read_spec(d)
    check_compatible(model, spec, d)
    tensors = read_weights(d / WEIGHTS, spec.weights_sha256, what="--init")
    state = {k[len(PREFIX) :]: v for k, v in tensors.items() if k.startswith(PREFIX)}
    if not state:
        raise ModelError(f"--init {d} holds no location-encoder weights: pass a folder from geoenc pretrain or train")
    assign_weights(model.location, state, f"--init {d}", fitted="position.")
    if freeze_encoder:
        freeze(model.location)


def encoder_settings(pretrained_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``method``/``method_params``/``net``/``net_params`` of a model directory, as TrainConfig fields.

    Lets ``geoenc train --init DIR`` default its encoder and net to the pretrained ones, so a user need
    not repeat ``-m``/``-p``/``--net``/``-n``.
    """
    spec = read_spec(pretrained_dir)
    return {
        "method": spec.encoder.name,
        "method_params": dict(spec.encoder.params),
        "net": spec.net.name,
        "net_params": dict(spec.net.params),
    }


def freeze(module: nn.Module) -> None:
    """``requires_grad=False`` on every parameter of ``module`` (a linear probe on a frozen encoder)."""
    for p in module.parameters():
        p.requires_grad_(False)
