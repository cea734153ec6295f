"""The catalogue `geoenc methods` reads (shipped JSON, no torch) is the live registry's."""

from __future__ import annotations

from geoenc.catalogue import read
from geoenc.encoders.catalogue import build


def test_shipped_catalogue_matches_the_registry():
    assert read() == build(), "an encoder changed: run `python -m geoenc.encoders.catalogue` and commit the JSON"
