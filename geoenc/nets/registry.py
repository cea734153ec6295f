"""Name → net class registry with typed ``-n key=value`` parsing.

A net maps ``(N, in_dim)`` features to ``(N, out_dim)``. It knows nothing about geography: the location
model passes the position encoder's ``embedding_dim`` as ``in_dim``. Net parameters are keyword-only
``__init__`` arguments with type annotations and defaults; strings given on the command line are
converted with those annotations.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from torch import nn

from geoenc.errors import ParameterError, UnknownNameError, did_you_mean
from geoenc.params import parse_text


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


_NETS: dict[str, type[Net]] = {}


def register(name: str) -> Callable[[type[Net]], type[Net]]:
    def deco(cls: type[Net]) -> type[Net]:
        key = name.lower()
        if key in _NETS:
            raise ValueError(f"net name {name!r} registered twice")
        cls.name = name
        _NETS[key] = cls
        return cls

    return deco


def net_names() -> list[str]:
    return [cls.name for cls in _NETS.values()]


def get_net_class(name: str) -> type[Net]:
    key = str(name).strip().lower()
    if key not in _NETS:
        names = net_names()
        raise UnknownNameError(f"unknown net {name!r}{did_you_mean(str(name), names)}; known nets: {', '.join(names)}")
    return _NETS[key]


def _signature(cls: type[Net]) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(cls.__init__)
    return {k: p for k, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}


def _convert(net: str, key: str, value: Any, typ: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_text(value, typ)
    except (ValueError, TypeError):
        raise ParameterError(
            f"net parameter {key}={value!r} for net {net!r} is not a valid {getattr(typ, '__name__', typ)}"
        ) from None


def resolve_net_params(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check keys against the net's signature and convert string values to their annotated types."""
    cls = get_net_class(name)
    allowed = _signature(cls)
    hints = typing.get_type_hints(cls.__init__)
    out = {}
    for key, value in (params or {}).items():
        if key not in allowed:
            raise ParameterError(
                f"net {cls.name!r} has no parameter {key!r}{did_you_mean(key, list(allowed))}; "
                f"its parameters are: {', '.join(allowed) or 'none'}"
            )
        out[key] = _convert(cls.name, key, value, hints.get(key, str))
    return out


def get_net(name: str, in_dim: int, **params: Any) -> Net:
    """Build a registered net for ``in_dim`` input features; string params are parsed by annotation."""
    cls = get_net_class(name)
    return cls(in_dim, **resolve_net_params(name, params))


def list_nets() -> list[dict[str, Any]]:
    """Each net's name, summary and parameters with defaults (for docs and ``--help``)."""
    out = []
    for cls in _NETS.values():
        hints = typing.get_type_hints(cls.__init__)
        out.append(
            {
                "name": cls.name,
                "summary": cls.summary,
                "params": [
                    {"name": k, "type": getattr(hints.get(k), "__name__", str(hints.get(k))), "default": p.default}
                    for k, p in _signature(cls).items()
                ],
            }
        )
    return out


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
