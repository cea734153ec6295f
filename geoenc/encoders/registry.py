"""The registry of position encoders: ``get_encoder(name, **params)``, ``list_encoders()`` and ``register``.

Names are matched case-insensitively; parameters are checked and converted by the shared
:class:`geoenc.registry.Registry` (text from ``-p key=value`` parsed by each ``__init__`` annotation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geoenc.encoders.base import PositionEncoder
from geoenc.registry import ParamInfo, Registry

ENCODERS: Registry[PositionEncoder] = Registry("method", "methods")
register = ENCODERS.register


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


def get_encoder_class(name: str) -> type[PositionEncoder]:
    return ENCODERS.get(name)


def resolve_params(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check keys against the encoder's signature and convert values to their annotated types."""
    return ENCODERS.resolve(name, params)


def get_encoder(name: str, **params: Any) -> PositionEncoder:
    """Build a registered encoder by name; string parameter values are parsed by their annotation."""
    return ENCODERS.get(name)(**ENCODERS.resolve(name, params))


def list_encoders() -> list[EncoderInfo]:
    """Every registered encoder with its dimension formula and parameters, in registration order."""
    return [
        EncoderInfo(c.name, c.dim_formula, c.summary, c.needs_fit, c.default_net, ENCODERS.describe(c, c.param_docs))
        for c in ENCODERS.classes()
    ]


def encoder_names() -> list[str]:
    return ENCODERS.names()
