"""plot_hotspots writes a PNG atomically and refuses to overwrite."""

from __future__ import annotations

import numpy as np
import pytest

from geoenc.errors import OutputError
from geoenc.maps.plot import plot_hotspots


def test_png_written_and_not_overwritten(tmp_path):
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-180, 180, 300), rng.uniform(-90, 90, 300)
    bins = rng.integers(-3, 4, 300)
    p = plot_hotspots(tmp_path / "m.png", lon, lat, bins, title="t")
    assert p.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(OutputError):
        plot_hotspots(tmp_path / "m.png", lon, lat, bins)
    assert [q.name for q in tmp_path.iterdir()] == ["m.png"]
