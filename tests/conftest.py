"""Shared fixtures: small point files in every input format, and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from geoenc.cli.main import app
from geoenc.io import write_points

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

LON = np.array([10.5, -170.0, 0.0, 179.9, -45.25])
LAT = np.array([45.2, -20.0, 0.0, -89.5, 60.0])
NAMES = ["a", "b", "c", "d", "e"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner):
    """Invoke the geoenc app: cli("encode", "x.csv", ...) → Result with .exit_code, .stdout, .stderr."""

    def invoke(*args: str, input: bytes | str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "pts.csv"
    rows = ["name,Longitude,Latitude,pop"] + [f"{n},{x},{y},{i * 10}" for i, (n, x, y) in enumerate(zip(NAMES, LON, LAT))]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    path = tmp_path / "pts.parquet"
    write_points(path, LON, LAT, pa.table({"name": NAMES, "pop": list(range(0, 50, 10))}))
    return path


@pytest.fixture
def geojson_file(tmp_path: Path) -> Path:
    path = tmp_path / "pts.geojson"
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
              "properties": {"name": n, "pop": i * 10}} for i, (n, x, y) in enumerate(zip(NAMES, LON, LAT))]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path
