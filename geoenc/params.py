"""Turning command-line text (``-p key=value``, ``-n key=value``) into a parameter's annotated type, and
checking that a numeric setting is a finite number in its range.

Shared by the registries of encoders and nets, which wrap the ``ValueError`` raised here in a one-line
:class:`~geoenc.errors.ParameterError` that names the method or net.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any

from geoenc.errors import ParameterError

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def parse_text(value: str, typ: Any) -> Any:
    """``value`` as ``typ`` (bool, int, float, str, Literal, tuple[X, ...], Optional[X]).

    Raises ValueError if it is not one.
    """
    origin, args = typing.get_origin(typ), typing.get_args(typ)
    if origin is typing.Union or origin is types.UnionType:
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


def check_number(owner: Any, name: str, *, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    """Refuse ``owner.name`` unless it is a finite number in its range (not inf or NaN); store it as float."""
    v = getattr(owner, name)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ParameterError(f"--{name.replace('_', '-')} must be a finite number in {rng}, got {v!r}")
    setattr(owner, name, float(v))
