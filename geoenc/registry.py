"""One name → class registry, shared by position encoders and nets (torchgeo ``models/api.py`` style).

A registered class takes its parameters as keyword-only ``__init__`` arguments with type annotations and
defaults. The registry matches names case-insensitively (an unknown one gets a "did you mean"), checks
parameter keys against the signature, and converts values to their annotated types: text from the command
line (``-p key=value``) is parsed, other values (YAML, JSON, Python) are checked — a value of the wrong type
is a one-line :class:`~geoenc.errors.ParameterError`, never an internal error.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from geoenc.errors import ParameterError, UnknownNameError, did_you_mean
from geoenc.params import parse_text

T = TypeVar("T")


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of a registered class: name, type name, default and a line of documentation."""

    name: str
    type: str
    default: Any
    doc: str = ""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Registry(Generic[T]):
    """Registered classes of one ``kind`` ("method", "net"), in registration order."""

    def __init__(self, kind: str, plural: str) -> None:
        self.kind, self.plural = kind, plural
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: register under ``name`` (case-insensitive, unique) and set ``cls.name``."""

        def deco(cls: type[T]) -> type[T]:
            key = name.lower()
            if key in self._classes:
                raise ValueError(f"{self.kind} name {name!r} registered twice")
            cls.name = name  # type: ignore[attr-defined]
            self._classes[key] = cls
            return cls

        return deco

    def names(self) -> list[str]:
        return [c.name for c in self._classes.values()]  # type: ignore[attr-defined]

    def classes(self) -> list[type[T]]:
        return list(self._classes.values())

    def get(self, name: Any) -> type[T]:
        key = name.strip().lower() if isinstance(name, str) else None
        if key not in self._classes:
            names = self.names()
            hint = did_you_mean(name, names) if isinstance(name, str) else ""
            raise UnknownNameError(f"unknown {self.kind} {_short(name)}{hint}; known {self.plural}: {', '.join(names)}")
        return self._classes[key]

    @staticmethod
    def signature(cls: type[Any]) -> dict[str, inspect.Parameter]:
        """The keyword-only parameters of ``cls.__init__`` (the ones a user sets)."""
        sig = inspect.signature(cls.__init__)
        return {k: p for k, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}

    def resolve(self, name: str, params: Any = None) -> dict[str, Any]:
        """Check keys against the signature and convert values to their annotated types."""
        cls = self.get(name)
        if params is not None and not isinstance(params, dict):
            raise ParameterError(
                f"parameters of {self.kind} {cls.name!r} must be a mapping of name: value, "  # type: ignore[attr-defined]
                f"got {_short(params)}"
            )
        allowed = self.signature(cls)
        hints = typing.get_type_hints(cls.__init__)
        out: dict[str, Any] = {}
        for key, value in (params or {}).items():
            if key not in allowed:
                raise ParameterError(
                    f"{self.kind} {cls.name!r} has no parameter {key!r}{did_you_mean(str(key), list(allowed))}; "  # type: ignore[attr-defined]
                    f"its parameters are: {', '.join(allowed) or 'none'}"
                )
            out[key] = self._convert(cls.name, key, value, hints.get(key, str))  # type: ignore[attr-defined]
        return out

    def describe(self, cls: type[Any], docs: dict[str, str] | None = None) -> tuple[ParamInfo, ...]:
        hints = typing.get_type_hints(cls.__init__)
        return tuple(
            ParamInfo(
                name=k,
                type=getattr(hints.get(k), "__name__", str(hints.get(k))),
                default=None if p.default is inspect.Parameter.empty else p.default,
                doc=(docs or {}).get(k, ""),
            )
            for k, p in self.signature(cls).items()
        )

    # -- typed values ----------------------------------------------------------------------------------
    def _bad(self, owner: str, key: str, value: Any, typ: Any) -> ParameterError:
        tname = getattr(typ, "__name__", str(typ))
        return ParameterError(f"parameter {key}={_short(value)} for {self.kind} {owner!r} is not a valid {tname}")

    def _convert(self, owner: str, key: str, value: Any, typ: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_text(value, typ)
            except (ValueError, TypeError):
                raise self._bad(owner, key, value, typ) from None
        origin, args = typing.get_origin(typ), typing.get_args(typ)
        if origin is typing.Union or origin is types.UnionType:
            if value is None and type(None) in args:
                return None
            typ = next(a for a in args if a is not type(None))
            origin, args = typing.get_origin(typ), typing.get_args(typ)
        if typ is bool:
            if isinstance(value, bool):
                return value
            raise self._bad(owner, key, value, typ)
        if typ is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise self._bad(owner, key, value, typ)
        if typ is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            raise self._bad(owner, key, value, typ)
        if origin is tuple:
            if not isinstance(value, (list, tuple)):
                raise self._bad(owner, key, value, typ)
            inner = args[0] if args else float
            return tuple(self._convert(owner, key, v, inner) for v in value)
        if typ is str and not isinstance(value, str):
            raise self._bad(owner, key, value, typ)
        return value
