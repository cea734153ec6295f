"""Name → encoder class registry, with typed parameter parsing.

Names are matched case-insensitively; an unknown name raises :class:`UnknownNameError` with a
"did you mean" suggestion. Parameters given as strings (``-p frequency_num=32``) are converted with
the type annotation of the encoder's ``__init__`` keyword; unknown keys list the allowed ones.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from geoenc.encoders.base import PositionEncoder
from geoenc.errors import ParameterError, UnknownNameError, did_you_mean
from geoenc.params import parse_text

_REGISTRY: dict[str, type[PositionEncoder]] = {}


@dataclass(frozen=True)
class ParamInfo:
    name: str
    type: str
    default: Any
    doc: str = ""


@dataclass(frozen=True)
class EncoderInfo:
    name: str
    dim_formula: str
    summary: str
    needs_fit: bool
    default_net: str
    params: tuple[ParamInfo, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dim": self.dim_formula,
            "summary": self.summary,
            "needs_fit": self.needs_fit,
            "default_net": self.default_net,
            "params": [p.__dict__ for p in self.params],
        }


def register(name: str) -> Callable[[type[PositionEncoder]], type[PositionEncoder]]:
    """Class decorator: register an encoder under ``name`` (case-insensitive, unique)."""

    def deco(cls: type[PositionEncoder]) -> type[PositionEncoder]:
        key = name.lower()
        if key in _REGISTRY:
            raise ValueError(f"encoder name {name!r} registered twice")
        cls.name = name
        _REGISTRY[key] = cls
        return cls

    return deco


def _canonical(name: str) -> type[PositionEncoder]:
    key = name.strip().lower()
    if key not in _REGISTRY:
        names = sorted(c.name for c in _REGISTRY.values())
        raise UnknownNameError(f"unknown method {name!r}{did_you_mean(name, names)}; known methods: {', '.join(names)}")
    return _REGISTRY[key]


def _signature_params(cls: type[PositionEncoder]) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(cls.__init__)
    return {k: p for k, p in sig.parameters.items() if k != "self" and p.kind is p.KEYWORD_ONLY}


def _param_types(cls: type[PositionEncoder]) -> dict[str, Any]:
    return typing.get_type_hints(cls.__init__)


def _param_doc(cls: type[PositionEncoder], name: str) -> str:
    docs = getattr(cls, "param_docs", {}) or {}
    return docs.get(name, "")


def _bad_type(cls: type[PositionEncoder], key: str, value: Any, typ: Any) -> ParameterError:
    tname = getattr(typ, "__name__", str(typ))
    return ParameterError(f"parameter {key}={value!r} for method {cls.name!r} is not a valid {tname}")


def _convert_value(cls: type[PositionEncoder], key: str, value: Any, typ: Any) -> Any:
    """Check (and losslessly convert) a non-string value against the annotation ``typ``."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin is typing.Union or str(origin) == "types.UnionType":
        if value is None and type(None) in args:
            return None
        typ = next(a for a in args if a is not type(None))
        origin = typing.get_origin(typ)
        args = typing.get_args(typ)
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise _bad_type(cls, key, value, typ)
    if typ is int:
        if isinstance(value, bool):
            raise _bad_type(cls, key, value, typ)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _bad_type(cls, key, value, typ)
    if typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _bad_type(cls, key, value, typ)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _bad_type(cls, key, value, typ)
        inner = args[0] if args else float
        return tuple(
            _convert_value(cls, key, v, inner) if not isinstance(v, str) else _convert(cls, key, v, inner)
            for v in value
        )
    if typ is str and not isinstance(value, str):
        raise _bad_type(cls, key, value, typ)
    return value


def _convert(cls: type[PositionEncoder], key: str, value: Any, typ: Any) -> Any:
    if not isinstance(value, str):
        return _convert_value(cls, key, value, typ)
    try:
        return parse_text(value, typ)
    except (ValueError, TypeError):
        tname = getattr(typ, "__name__", str(typ))
        raise ParameterError(f"parameter {key}={value!r} for method {cls.name!r} is not a valid {tname}") from None


def get_encoder_class(name: str) -> type[PositionEncoder]:
    return _canonical(name)


def resolve_params(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check keys against the encoder's signature and convert string values to their types."""
    cls = _canonical(name)
    allowed = _signature_params(cls)
    types = _param_types(cls)
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if key not in allowed:
            keys = ", ".join(allowed) or "none"
            raise ParameterError(
                f"method {cls.name!r} has no parameter {key!r}{did_you_mean(key, list(allowed))}; "
                f"its parameters are: {keys}"
            )
        out[key] = _convert(cls, key, value, types.get(key, str))
    return out


def get_encoder(name: str, **params: Any) -> PositionEncoder:
    """Build a registered encoder by name; string parameter values are parsed by their annotation."""
    cls = _canonical(name)
    return cls(**resolve_params(name, params))


def list_encoders() -> list[EncoderInfo]:
    """Every registered encoder with its dimension formula and parameters, in registration order."""
    infos = []
    for cls in _REGISTRY.values():
        types = _param_types(cls)
        params = tuple(
            ParamInfo(
                name=k,
                type=getattr(types.get(k), "__name__", str(types.get(k))),
                default=None if p.default is inspect.Parameter.empty else p.default,
                doc=_param_doc(cls, k),
            )
            for k, p in _signature_params(cls).items()
        )
        infos.append(EncoderInfo(cls.name, cls.dim_formula, cls.summary, cls.needs_fit, cls.default_net, params))
    return infos


def encoder_names() -> list[str]:
    return [cls.name for cls in _REGISTRY.values()]
