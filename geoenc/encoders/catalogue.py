"""Build the shipped encoder catalogue (:mod:`geoenc.catalogue`) from the live registry.

After adding or changing an encoder: ``python -m geoenc.encoders.catalogue`` (the catalogue test says so).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from geoenc.catalogue import PATH
from geoenc.encoders.registry import list_encoders


def build() -> list[dict[str, Any]]:
    """The catalogue from the registry, as JSON-ready mappings."""
    return json.loads(json.dumps([info.as_dict() for info in list_encoders()], default=str))  # type: ignore[no-any-return]


def write() -> Path:
    PATH.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return PATH


if __name__ == "__main__":
    print(f"wrote {write()}")
