"""The one place provenance is assembled: what every output records about how it was made.

Written into GeoParquet (``geoenc`` metadata key), GeoTIFF tags and model folders' ``config.json``.
No timestamps or host names: the same command twice writes the same bytes.
"""

from __future__ import annotations

from typing import Any

from geoenc._version import __version__


def provenance(command: str | None = None, **fields: Any) -> dict[str, Any]:
    """``{"command": …, "geoenc_version": …, **fields}`` (``command`` omitted when None)."""
    out: dict[str, Any] = {} if command is None else {"command": command}
    out["geoenc_version"] = __version__
    out.update(fields)
    return out


def versions() -> dict[str, str]:
    """geoenc's and torch's versions, recorded in model folders (imports torch)."""
    import torch

    return {"geoenc_version": __version__, "torch_version": torch.__version__}
