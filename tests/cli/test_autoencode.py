"""`geoenc autoencode` and `geoenc encode --model AE --raster`: a model dir, embeddings, and bad inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from rasterio.transform import from_origin

from tests.imagery.rasters import indexed, toy_image, write_raster

SMALL = [
    "--size",
    "8",
    "--latent",
    "6",
    "--width",
    "4",
    "--samples",
    "96",
    "--epochs",
    "2",
    "--batch-size",
    "32",
    "--device",
    "cpu",
]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    """96 × 96 pixels of 0.01° around lon 10…10.96, lat 45.04…46, two bands."""
    return write_raster(
        tmp_path_factory.mktemp("toy") / "toy.tif", toy_image(), "EPSG:4326", from_origin(10, 46, 0.01, 0.01)
    )


@pytest.fixture(scope="module")
def ae(toy, tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    from geoenc.cli.main import app

    out = tmp_path_factory.mktemp("models") / "ae"
    res = CliRunner().invoke(app, ["autoencode", str(toy), "-o", str(out), *SMALL])
    assert res.exit_code == 0, res.output
    assert "held-out reconstruction MSE" in res.stderr and res.stdout == ""
    return out


@pytest.fixture
def pts(tmp_path) -> Path:
    path = tmp_path / "pts.csv"
    path.write_text("name,lon,lat\na,10.2,45.5\nb,10.5,45.9\nc,10.9,45.1\n")
    return path


def test_autoencode_writes_a_model_dir(ae):
    assert {p.name for p in ae.iterdir()} >= {"model.safetensors", "config.json", "metrics.json", "train_log.csv"}
    cfg = json.loads((ae / "config.json").read_text())
    assert cfg["kind"] == "autoencoder" and cfg["model"] == {"bands": 2, "size": 8, "latent": 6, "width": 4, "depth": 1}
    assert cfg["training"]["samples"] == 96 and cfg["training"]["seed"] == 0
    m = json.loads((ae / "metrics.json").read_text())
    assert m["val_chips"] + m["train_chips"] == 96 and m["baseline_mean_image_mse"] > 0


def test_encode_with_the_autoencoder(cli, ae, toy, pts, tmp_path):
    out = tmp_path / "emb.parquet"
    res = cli("encode", pts, "--model", ae, "--raster", toy, "-o", out)
    assert res.exit_code == 0, res.output
    assert "with autoencoder (6 dims)" in res.stderr
    table = pq.read_table(out)
    assert table.column("name").to_pylist() == ["a", "b", "c"]
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), 6)
    err = table.column("recon_error").to_numpy()
    assert err.shape == (3,) and np.isfinite(err).all()
    meta = json.loads(table.schema.metadata[b"geoenc"])
    assert meta["method"] == "autoencoder" and meta["dim"] == 6 and meta["raster"] == str(toy)
    # the same numbers as the library function
    from geoenc.imagery.embed import embed_points_with_autoencoder

    z, e = embed_points_with_autoencoder(ae, toy, np.array([[10.2, 45.5], [10.5, 45.9], [10.9, 45.1]]), device="cpu")
    np.testing.assert_allclose(np.stack(table.column("embedding").to_numpy(zero_copy_only=False)), z, atol=1e-6)
    np.testing.assert_allclose(err, e, rtol=1e-6)


def test_encode_columns_layout_and_csv(cli, ae, toy, pts, tmp_path):
    out = tmp_path / "emb.csv"
    res = cli("encode", pts, "--model", ae, "--raster", toy, "-o", out)
    assert res.exit_code == 0, res.output
    header = out.read_text().splitlines()[0].replace('"', "").split(",")
    assert header[:3] == ["name", "lon", "lat"] and "emb_5" in header and "recon_error" in header


def test_same_command_same_weights(cli, toy, tmp_path):
    from safetensors.torch import load_file

    for name in ("a", "b"):
        assert cli("autoencode", toy, "-o", tmp_path / name, *SMALL, "--epochs", "1").exit_code == 0
    a, b = (load_file(str(tmp_path / n / "model.safetensors")) for n in ("a", "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_autoencode_at_points(cli, toy, pts, tmp_path):
    res = cli("autoencode", toy, "-o", tmp_path / "ae", *SMALL, "--points", pts)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "ae" / "metrics.json").read_text())["train_chips"] == 2


def _case(tmp_path: Path, toy: Path, ae: Path, pts: Path, name: str):
    nocrs = write_raster(tmp_path / "nocrs.tif", indexed(20, 20), None)
    junk = tmp_path / "junk.tif"
    junk.write_text("no")
    exists = tmp_path / "exists"
    exists.mkdir()
    out = tmp_path / "new_ae"
    return {
        "no crs": (["autoencode", nocrs, "-o", out, *SMALL], 1, "has no CRS"),
        "unreadable": (["autoencode", junk, "-o", out, *SMALL], 1, "cannot read raster"),
        "size larger": (["autoencode", toy, "-o", out, *SMALL, "--size", "128"], 2, "larger than raster"),
        "bad bands": (["autoencode", toy, "-o", out, *SMALL, "--bands", "1,x"], 2, "--bands takes"),
        "band beyond": (["autoencode", toy, "-o", out, *SMALL, "--bands", "3"], 2, "--bands 3 does not exist"),
        "lr zero": (["autoencode", toy, "-o", out, *SMALL, "--lr", "0"], 2, "--lr must be a finite number"),
        "exists": (["autoencode", toy, "-o", exists, *SMALL], 1, "--overwrite"),
        "encode ae without raster": (["encode", pts, "--model", ae, "-o", tmp_path / "e.parquet"], 2, "--raster"),
        "encode raster without model": (
            ["encode", pts, "--raster", toy, "-o", tmp_path / "e.parquet"],
            2,
            "--raster goes with --model",
        ),
        "encode outside": (
            ["encode", nocrs.with_name("far.csv"), "--model", ae, "--raster", toy, "-o", tmp_path / "e.parquet"],
            1,
            r"1 of 1 points lie outside raster .*\(first: row 1",
        ),
    }[name]


@pytest.mark.parametrize(
    "name",
    [
        "no crs",
        "unreadable",
        "size larger",
        "bad bands",
        "band beyond",
        "lr zero",
        "exists",
        "encode ae without raster",
        "encode raster without model",
        "encode outside",
    ],
)
def test_bad_inputs(cli, toy, ae, pts, tmp_path, name):
    args, code, match = _case(tmp_path, toy, ae, pts, name)
    (tmp_path / "far.csv").write_text("lon,lat\n-50,0\n")
    before = {p.name for p in tmp_path.iterdir()}
    res = cli(*args)
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoenc: error:"), res.stderr
    assert re.search(match, lines[0]), lines[0]
    assert {p.name for p in tmp_path.iterdir()} == before


def test_map_of_reconstruction_error(cli, ae, toy, tmp_path):
    import rasterio

    out = tmp_path / "err.tif"
    res = cli("map", ae, "--raster", toy, "-o", out, "--device", "cpu")
    assert res.exit_code == 0, res.stderr
    with rasterio.open(out) as ds, rasterio.open(toy) as src:
        assert ds.crs == src.crs
        assert ds.descriptions[0] == "reconstruction_mse"
        assert (ds.read(1, masked=True).compressed() >= 0).all()
    res = cli("map", ae, "-o", tmp_path / "x.tif")
    assert res.exit_code == 2 and "--raster" in res.stderr
