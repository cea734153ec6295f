"""--engine/--scheduler and dataset inputs on the command line: usage errors, the local engine, no Dask import
unless asked for. (Runs on a Dask cluster: tests/workflows/test_distributed.py.)"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from geoenc.io import write_points


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for i in range(3):
        n = 50
        write_points(
            tmp_path / "in" / f"p{i}.parquet",
            rng.uniform(-180, 180, n),
            rng.uniform(-80, 80, n),
            pa.table({"i": [i] * n}),
        )
    return tmp_path / "in"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark"], "unknown --engine 'spark': choose local or dask"),
        (["--engine", "local", "--scheduler", "local:2"], "--scheduler goes with --engine dask"),
        (["--scheduler", "local:0"], "give local:N with N worker processes"),
        (["--output-format", "csv"], "a dataset is written as GeoParquet files"),
    ],
)
def test_bad_engine_options_are_usage_errors(cli, dataset, tmp_path, args, message):
    res = cli("encode", dataset, "-o", tmp_path / "out", *args)
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_dataset_needs_a_folder_output(cli, dataset, tmp_path):
    res = cli("encode", dataset, "-o", tmp_path / "out.parquet")
    assert res.exit_code == 2 and "give a folder name" in res.stderr


def test_encode_and_predict_a_dataset_here_and_rerun(cli, dataset, tmp_path, class_model):
    res = cli("encode", dataset, "-o", tmp_path / "emb", "-m", "xyz")
    assert res.exit_code == 0, res.stderr
    assert "encoded 150 points in 3 of 3 partitions with xyz (3 dims)" in res.stderr
    assert sorted(p.name for p in (tmp_path / "emb").iterdir()) == [
        "_common_metadata",
        "_metadata",
        "p0.parquet",
        "p1.parquet",
        "p2.parquet",
    ]
    res = cli("encode", str(dataset / "p*.parquet"), "-o", tmp_path / "emb", "-m", "xyz")  # a glob, same dataset
    assert res.exit_code == 0 and "0 of 3 partitions (3 already complete)" in res.stderr
    res = cli("encode", dataset, "-o", tmp_path / "emb", "-m", "sphereC")
    assert res.exit_code == 1 and "written from other settings: pass --overwrite" in res.stderr
    res = cli("predict", class_model, dataset, "-o", tmp_path / "pred")
    assert res.exit_code == 0, res.stderr
    assert "predicted 150 points in 3 of 3 partitions" in res.stderr


def test_map_and_geobias_take_the_engine_options(cli, tmp_path):
    res = cli(
        "map", "--method", "sphereM", "--dim", "0", "-o", tmp_path / "m.tif", "--engine", "local", "--scheduler", "x"
    )
    assert res.exit_code == 2 and "--scheduler goes with --engine dask" in res.stderr
    res = cli(
        "map", "--method", "sphereM", "--dim", "0", "--cell-deg", "10", "-o", tmp_path / "m.tif", "--engine", "local"
    )
    assert res.exit_code == 0, res.stderr
    res = cli("geobias", tmp_path / "none.parquet", "-o", tmp_path / "r.parquet", "--engine", "dusk")
    assert res.exit_code == 2 and "unknown --engine 'dusk'" in res.stderr


def test_geoenc_and_its_help_do_not_import_dask():
    code = (
        "import sys, geoenc, geoenc.cli.main; from geoenc.cli.main import app; "
        "from typer.testing import CliRunner; r = CliRunner().invoke(app, ['encode', '--help']); "
        "assert r.exit_code == 0 and '--scheduler' in r.stdout, r.stdout; "
        "print(sorted(m for m in ('dask', 'distributed', 'dask_geopandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
