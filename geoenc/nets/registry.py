"""Name → net class registry with typed ``-n key=value`` parsing.

A net maps ``(N, in_dim)`` features to ``(N, out_dim)``. It knows nothing about geography: the location
model passes the position encoder's ``embedding_dim`` as ``in_dim``. Net parameters are keyword-only
``__init__`` arguments with type annotations and defaults; strings given on the command line are
converted with those annotations.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from torch import nn

from geoenc.errors import ParameterError
from geoenc.registry import Registry


class Net(nn.Module):
    """Base class: subclasses set ``name`` (via :func:`register`) and ``out_dim``, and remember params."""

    name: typing.ClassVar[str] = ""
    summary: typing.ClassVar[str] = ""

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        if not isinstance(in_dim, int) or in_dim < 1:
            raise ParameterError(f"net input dimension must be a positive integer, got {in_dim!r}")
        self.in_dim = in_dim
        self.out_dim = in_dim
        self._params: dict[str, Any] = {}

    @property
    def params(self) -> dict[str, Any]:
        """Resolved parameters (JSON-serialisable), as saved in a model's config.json."""
        return dict(self._params)

    def _remember(self, **params: Any) -> None:
        self._params.update(params)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._params.items())


NETS: Registry[Net] = Registry("net", "nets")
register = NETS.register


def net_names() -> list[str]:
    return NETS.names()


def get_net_class(name: str) -> type[Net]:
    return NETS.get(name)


def resolve_net_params(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check keys against the net's signature and convert values to their annotated types."""
    return NETS.resolve(name, params)


def get_net(name: str, in_dim: int, **params: Any) -> Net:
    """Build a registered net for ``in_dim`` input features; string params are parsed by annotation."""
    return NETS.get(name)(in_dim, **NETS.resolve(name, params))


def list_nets() -> list[dict[str, Any]]:
    """Each net's name, summary and parameters with defaults (for docs and ``--help``)."""
    return [
        {"name": c.name, "summary": c.summary, "params": [p.__dict__ for p in NETS.describe(c)]} for c in NETS.classes()
    ]


# -- helpers shared by net modules -------------------------------------------------------------------
def check_positive(name: str, value: int | float, *, allow_zero: bool = False) -> None:
    if value is None or value < 0 or (value == 0 and not allow_zero):
        raise ParameterError(f"net parameter {name}={value!r} must be {'>= 0' if allow_zero else '> 0'}")


def check_dropout(value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ParameterError(f"net parameter dropout={value!r} must be in [0, 1)")


_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "leakyrelu": lambda: nn.LeakyReLU(0.2),
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def make_activation(name: str) -> nn.Module:
    key = name.strip().lower().replace("_", "")
    if key not in _ACTIVATIONS:
        raise ParameterError(f"net parameter activation={name!r} is not valid: choose one of {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[key]()
