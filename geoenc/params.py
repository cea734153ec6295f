"""Turning command-line text (``-p key=value``, ``-n key=value``) into a parameter's annotated type.

Shared by the registries of encoders and nets, which wrap the ``ValueError`` raised here in a one-line
:class:`~geoenc.errors.ParameterError` that names the method or net.
"""

from __future__ import annotations

import typing
from typing import Any

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def parse_text(value: str, typ: Any) -> Any:
    """``value`` as ``typ`` (bool, int, float, str, Literal, tuple[X, ...], Optional[X]).

    Raises ValueError if it is not one.
    """
    origin, args = typing.get_origin(typ), typing.get_args(typ)
    if origin is typing.Union or str(origin) == "types.UnionType":
        if value.strip().lower() in ("none", "null", ""):
            return None
        return parse_text(value, next(a for a in args if a is not type(None)))
    if typ is bool:
        low = value.strip().lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise ValueError(value)
    if typ is int:
        as_float = float(value)
        if not as_float.is_integer():
            raise ValueError(value)
        return int(as_float)
    if typ is float:
        return float(value)
    if origin is tuple:
        inner = args[0] if args else float
        return tuple(parse_text(p, inner) for p in value.replace(";", ",").split(",") if p.strip())
    return value
