"""The encoder catalogue as data: what ``geoenc methods`` prints, read without importing torch.

``catalogue.json`` (package data) holds every registered encoder's name, dimension formula, summary, default
net and parameters; :mod:`geoenc.encoders.catalogue` builds it from the live registry, and
``tests/encoders/test_catalogue.py`` fails when the shipped file and the registry differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("catalogue.json")


def read() -> list[dict[str, Any]]:
    """The catalogue (one mapping per encoder, in registration order), from the file shipped with geoenc."""
    return json.loads(PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
