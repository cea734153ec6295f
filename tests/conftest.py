"""Shared fixtures: small point files in every input format, and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from geoenc.cli.main import app
from geoenc.io import Points, write_points

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

    def invoke(*args: str, input: bytes | str | None = None):  # noqa: A002 - CliRunner's name
        res = runner.invoke(app, [str(a) for a in args], input=input)
        # every failure a test provokes is the user's, never "our bug": no case may end in "internal error"
        assert "internal error" not in res.stderr, f"geoenc {' '.join(map(str, args))}: {res.stderr}"
        return res

    return invoke


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "pts.csv"
    rows = ["name,Longitude,Latitude,pop"] + [
        f"{n},{x},{y},{i * 10}" for i, (n, x, y) in enumerate(zip(NAMES, LON, LAT, strict=False))
    ]
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
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"name": n, "pop": i * 10},
        }
        for i, (n, x, y) in enumerate(zip(NAMES, LON, LAT, strict=False))
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


# -- small trained models, shared by every test that needs one (trained once per session) ----------------


def _points(n: int, seed: int, regression: bool = False) -> Points:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    label = (lat + 90) / 10 if regression else np.where(lon < -60, "west", np.where(lon < 60, "mid", "east"))
    return Points(lon, lat, pa.table({"y": label}))


@pytest.fixture(scope="session")
def class_model(tmp_path_factory):
    from geoenc.training import TrainConfig, train

    out = tmp_path_factory.mktemp("models") / "cls"
    cfg = TrainConfig(
        label="y",
        method="xyz",
        net="ffn",
        net_params={"hidden": 64, "out": 32, "dropout": 0.0},
        epochs=25,
        batch_size=64,
        lr=3e-3,
        seed=0,
        device="cpu",
    )
    train(cfg, _points(600, 0), out_dir=out)
    return out


@pytest.fixture(scope="session")
def reg_model(tmp_path_factory):
    from geoenc.training import TrainConfig, train

    out = tmp_path_factory.mktemp("models") / "reg"
    cfg = TrainConfig(
        label="y",
        method="xyz",
        net="ffn",
        net_params={"hidden": 32, "out": 16},
        epochs=3,
        batch_size=128,
        seed=0,
        device="cpu",
    )
    train(cfg, _points(600, 1, regression=True), out_dir=out)
    return out
